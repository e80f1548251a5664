import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenService } from '../../core/tokens/token-service.js';

/** `Authorization: Bearer <admin token>` (RFC 6750 §2.1); anything else is 401 with a JSON body. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}

export function requireAdmin(tokens: TokenService) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = bearerToken(request.headers.authorization);
    if (!(await tokens.verifyAdmin(token))) {
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
