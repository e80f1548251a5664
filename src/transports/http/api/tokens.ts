import type { FastifyInstance } from 'fastify';
import type { Services } from '../../../core/services.js';
import { DomainError } from '../../../core/errors.js';
import type { TokenKind, TokenRecord } from '../../../core/tokens/types.js';

/** The hash never leaves the server. */
const publicView = ({ hash: _hash, ...rest }: TokenRecord) => rest;

export function registerTokenRoutes(app: FastifyInstance, { tokens }: Pick<Services, 'tokens'>): void {
  app.get<{ Querystring: { kind?: string } }>('/tokens', async (request) => {
    const kind = request.query.kind;
    if (kind && kind !== 'admin' && kind !== 'device')
      throw new DomainError('INVALID_INPUT', 'kind is admin or device');
    return { items: (await tokens.list(kind as TokenKind | undefined)).map(publicView) };
  });

  app.post<{ Body: { kind?: string; name?: string; product?: string; device?: string; token?: string } }>(
    '/tokens',
    async (request, reply) => {
      const body = request.body ?? {};
      if (body.kind !== 'admin' && body.kind !== 'device')
        throw new DomainError('INVALID_INPUT', 'kind is admin or device');
      const { token, record } = await tokens.create({
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

  app.delete<{ Params: { id: string } }>('/tokens/:id', async (request, reply) => {
    await tokens.revoke(request.params.id);
    reply.code(204).send();
  });
}
