import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { TokenService } from '../../core/tokens/token-service.js';
import type { Actor, AuditContext } from '../../core/audit/types.js';

/** The admin token each authenticated request came with, for the audit log. */
const actors = new WeakMap<FastifyRequest, Actor>();
/** Who each request of an audited scope acts as (`auditedAs`), for its route to pass to the services. */
const contexts = new WeakMap<FastifyRequest, AuditContext>();

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
 * A `preHandler` hook for a scope whose routes change things: each request acts as its admin token (id and name)
 * from its peer address, or as `fallback` when the scope let it in without one. The routes pass
 * `auditContextOf(request)` to the services: explicit, because an AsyncLocalStorage turns on promise hooks for
 * the whole process on Node 20, a cost on every later request (docs/adr/0004-audit.md).
 */
export function auditedAs(fallback: Actor = { id: null, name: 'anonymous' }) {
  return (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    contexts.set(request, { actor: actors.get(request) ?? fallback, address: request.ip });
    done();
  };
}

/** The request's audit context; only in a scope with `auditedAs`, so no action is ever recorded as no one. */
export function auditContextOf(request: FastifyRequest): AuditContext {
  const context = contexts.get(request);
  if (!context) throw new Error(`${request.method} ${request.url} is outside an audited scope`);
  return context;
}
