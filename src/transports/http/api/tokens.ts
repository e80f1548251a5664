import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../../../core/services.js';
import { auditContextOf } from '../admin-auth.js';
import type { TokenRecord } from '../../../core/tokens/types.js';
import { errors, ListOf, NoContent, Token, TokenParams } from './schemas.js';

const tags = ['tokens'];
const Kind = Type.Union([Type.Literal('admin'), Type.Literal('device')]);
const Limit = (description: string) =>
  Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()], { description }));

const NewToken = Type.Object(
  {
    kind: Kind,
    name: Type.Optional(Type.String({ description: 'Defaults to `<kind>-<first 6 characters>`' })),
    product: Limit('A device token limited to this product'),
    device: Limit('A device token limited to this device id'),
    token: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: 'Bring your own value (a device token is 40 hex characters); generated when left out',
      }),
    ),
  },
  { additionalProperties: false },
);

/** The hash never leaves the server. */
const publicView = ({ hash: _hash, ...rest }: TokenRecord) => rest;

export function registerTokenRoutes(app: FastifyInstance, { tokens }: Pick<Services, 'tokens'>): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    '/tokens',
    {
      schema: {
        tags,
        summary: 'List tokens (never their values)',
        querystring: Type.Object({ kind: Type.Optional(Kind) }),
        response: { 200: ListOf(Token), ...errors() },
      },
    },
    async (request) => ({ items: (await tokens.list(request.query.kind)).map(publicView) }),
  );

  api.post(
    '/tokens',
    {
      schema: {
        tags,
        summary: 'Create an admin or device token; the value is shown once',
        body: NewToken,
        response: {
          201: Type.Intersect([
            Token,
            Type.Object({ token: Type.String({ description: 'Shown only now' }) }),
          ]),
          ...errors(),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { token, record } = await tokens.create(auditContextOf(request), {
        kind: body.kind,
        name: body.name,
        product: body.product ?? null,
        device: body.device ?? null,
        token: body.token,
      });
      reply.code(201);
      // The only time the token itself is shown.
      return { ...publicView(record), token };
    },
  );

  api.delete(
    '/tokens/:id',
    {
      schema: {
        tags,
        summary: 'Revoke a token',
        params: TokenParams,
        response: { 204: NoContent, ...errors(404) },
      },
    },
    async (request, reply) => {
      await tokens.revoke(auditContextOf(request), request.params.id);
      reply.code(204).send(null);
    },
  );
}
