import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { TokenService } from '../../core/tokens/token-service.js';
import type { Actor } from '../../core/audit/types.js';
import { runAs } from '../../core/audit/context.js';

/** The admin token each authenticated request came with, for the audit log. */
const actors = new WeakMap<FastifyRequest, Actor>();

/** `Authorization: Bearer <admin token>` (RFC 6750 §2.1); anything else is 401 with a JSON body. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}

export function requireAdmin(tokens: TokenService) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = bearerToken(request.headers.authorization);
    const actor = await tokens.authenticateAdmin(token);
    if (actor) actors.set(request, actor);
    else {
      reply
        .code(401)
        .header('WWW-Authenticate', 'Bearer realm="updraft"')
        .send({
          code: 'UNAUTHORIZED',
          message: token
            ? 'the admin token is not valid'
            : 'an admin token is required (Authorization: Bearer <token>)',
        });
    }
  };
}

/**
 * A `preHandler` hook: the handler and every core call it makes run with the caller (token id and name, peer
 * address) as the audit context. `preHandler`, not `onRequest`: a parsed body resumes the request lifecycle from
 * the socket's events, outside a context entered earlier.
 */
export function auditedAs(fallback: Actor = { id: null, name: 'anonymous' }) {
  return (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    runAs({ actor: actors.get(request) ?? fallback, address: request.ip }, done);
  };
}
