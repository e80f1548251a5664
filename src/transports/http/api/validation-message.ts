import type { FastifySchemaValidationError } from 'fastify';

type SchemaError = FastifySchemaValidationError & { params: Record<string, unknown> };

/** `body` + `/settings/mode` → `body.settings.mode`: the field as a client spells it. */
function field(dataVar: string, instancePath: string, child?: string): string {
  const parts = instancePath
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  return [dataVar, ...parts].join('.');
}

const list = (values: unknown[]) => values.map((v) => JSON.stringify(v)).join(', ');

/** One error, said the way an API user reads it. */
function describe(error: SchemaError, siblings: SchemaError[], dataVar: string): string {
  const { keyword, params, instancePath } = error;
  if (keyword === 'required') {
    const names = (params.requiredProperties ?? [params.missingProperty]) as string[];
    return `${names.map((n) => field(dataVar, instancePath, n)).join(', ')} is required`;
  }
  if (keyword === 'additionalProperties') {
    const names = (params.additionalProperties ?? [params.additionalProperty]) as string[];
    return `${names.map((n) => field(dataVar, instancePath, n)).join(', ')} is not a known field`;
  }
  const name = field(dataVar, instancePath);
  if (keyword === 'anyOf' || keyword === 'oneOf') {
    // A union (an enum of literals, or "string or null"): say what would have been accepted.
    const consts = siblings.filter((e) => e.keyword === 'const').map((e) => e.params.allowedValue);
    const types = siblings.filter((e) => e.keyword === 'type').map((e) => e.params.type);
    if (consts.length) return `${name} must be one of ${list(consts)}`;
    if (types.length) return `${name} must be ${[...new Set(types)].join(' or ')}`;
  }
  if (keyword === 'enum') return `${name} must be one of ${list(params.allowedValues as unknown[])}`;
  return `${name} ${error.message ?? 'is invalid'}`;
}

/**
 * Fastify's `schemaErrorFormatter` for the management API: a 400 whose message names the field
 * (`body.token must be string`, `querystring.limit must be <= 1000`). The error handler turns it into the
 * usual `{ code: 'INVALID_INPUT', message }` body.
 */
export function formatValidationErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const all = errors as SchemaError[];
  // Union branches report first and the union itself last: answer with the outermost failure on the first path.
  const first = all[0];
  if (!first) return new Error(`${dataVar} is invalid`);
  const samePath = all.filter((e) => e.instancePath === first.instancePath);
  const chosen =
    samePath.find((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf') ??
    samePath.find((e) => e.keyword === 'additionalProperties') ??
    all.find((e) => e.keyword === 'additionalProperties' || e.keyword === 'required') ??
    first;
  return new Error(describe(chosen, samePath, dataVar));
}
