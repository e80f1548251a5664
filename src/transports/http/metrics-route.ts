import type { FastifyInstance } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { TokenService } from '../../core/tokens/token-service.js';
import { bearerToken } from './admin-auth.js';

export interface MetricsEndpoint {
  /** The Prometheus text exposition. */
  text(): Promise<string>;
  contentType: string;
  /**
   * `--metrics-token`: a scraper sends `Authorization: Bearer <token>`. On the main port an admin token is
   * accepted too; on a separate metrics address without a token the endpoint is open (bind it privately).
   */
  token?: string;
  /** Whether an admin token also opens it (the main port) or only the metrics token (its own address). */
  acceptAdmin: boolean;
}

const digest = (v: string) => createHash('sha256').update(v, 'utf8').digest();

/** `GET /metrics` (Prometheus text format 0.0.4). */
export function registerMetricsRoute(
  app: FastifyInstance,
  endpoint: MetricsEndpoint,
  tokens?: Pick<TokenService, 'verifyAdmin'>,
): void {
  const expected = endpoint.token ? digest(endpoint.token) : undefined;
  app.get('/metrics', async (request, reply) => {
    const token = bearerToken(request.headers.authorization);
    // Digests of equal length: the comparison takes the same time whatever the candidate.
    const byMetricsToken =
      expected !== undefined && token !== undefined && timingSafeEqual(digest(token), expected);
    const open = !expected && !endpoint.acceptAdmin;
    const byAdmin =
      !byMetricsToken && endpoint.acceptAdmin && tokens ? await tokens.verifyAdmin(token) : false;
    if (!open && !byMetricsToken && !byAdmin) {
      reply.code(401).header('WWW-Authenticate', 'Bearer realm="updraft-metrics"');
      return { code: 'UNAUTHORIZED', message: 'the metrics token (or an admin token) is required' };
    }
    reply.header('Content-Type', endpoint.contentType);
    return endpoint.text();
  });
}
