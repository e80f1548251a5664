import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../../../core/services.js';
import { DomainError } from '../../../core/errors.js';
import { errors } from './schemas.js';

const tags = ['audit'];
const IsoTime = Type.String({ format: 'date-time' });

export const AuditEntry = Type.Object(
  {
    id: Type.Integer({ description: 'Increasing; pass as `before` to page further back' }),
    at: IsoTime,
    actor: Type.Object({
      id: Type.Union([Type.String(), Type.Null()], {
        description: 'Token id; `config` for UPDRAFT_ADMIN_TOKEN; null for the server itself',
      }),
      name: Type.String({ description: 'Token name, or `system`, `riot-seed`' }),
    }),
    address: Type.Union([Type.String(), Type.Null()], { description: "The client's address" }),
    action: Type.String({ description: '`release.publish`, `token.create`... (docs/audit.md)' }),
    target: Type.String({ description: '`product`, `product@version`, a device id or a token id' }),
    detail: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  },
  { additionalProperties: true },
);

const AuditQuery = Type.Object(
  {
    actor: Type.Optional(Type.String({ maxLength: 256, description: 'Token name or id' })),
    action: Type.Optional(
      Type.String({ maxLength: 128, description: 'An action, or its prefix (`release`)' }),
    ),
    target: Type.Optional(
      Type.String({ maxLength: 512, description: 'A target; a product also finds its releases' }),
    ),
    since: Type.Optional(Type.String({ description: 'ISO-8601: entries at or after' })),
    until: Type.Optional(Type.String({ description: 'ISO-8601: entries before' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
    before: Type.Optional(Type.Integer({ minimum: 1, description: 'The `next` of the previous page' })),
  },
  { additionalProperties: false },
);

function isoParam(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new DomainError('INVALID_INPUT', `${name} must be an ISO-8601 time`);
  return date.toISOString();
}

/** `GET /audit`: who did what to which target, when and from where; newest first, paged by cursor. */
export function registerAuditRoutes(app: FastifyInstance, { audit }: Pick<Services, 'audit'>): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/audit',
    {
      schema: {
        tags,
        summary: 'The audit log: management actions, newest first',
        querystring: AuditQuery,
        response: {
          200: Type.Object(
            {
              items: Type.Array(AuditEntry),
              next: Type.Union([Type.Integer(), Type.Null()], {
                description: 'Pass as `before` for the next page; null on the last one',
              }),
            },
            { additionalProperties: true },
          ),
          ...errors(),
        },
      },
    },
    async (request) => {
      const q = request.query;
      return audit.list({
        actor: q.actor || undefined,
        action: q.action || undefined,
        target: q.target || undefined,
        since: isoParam(q.since, 'since'),
        until: isoParam(q.until, 'until'),
        limit: q.limit ?? 50,
        before: q.before,
      });
    },
  );
}
