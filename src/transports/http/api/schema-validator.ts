import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';

/**
 * Validates requests with TypeBox. Bodies are checked as sent: `"token": 123` or `"device": ["x"]` is a 400,
 * never quietly turned into a string (fastify's default Ajv setup coerces types). Query strings and path
 * parameters arrive as text, so they get their declared defaults and are converted (`limit=10` → 10) first.
 */
export const schemaValidator: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema);
  if (httpPart === 'body') {
    return (value) =>
      check.Check(value)
        ? { value }
        : { error: check.Errors(value) as unknown as FastifySchemaValidationError[] };
  }
  return (value) => {
    const converted = Value.Convert(schema, Value.Default(schema, Value.Clone(value)));
    return check.Check(converted)
      ? { value: converted }
      : { error: check.Errors(converted) as unknown as FastifySchemaValidationError[] };
  };
};
