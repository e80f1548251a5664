import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registerMetricsRoute, type MetricsEndpoint } from '../transports/http/metrics-route.js';

/**
 * `--metrics-port`: `GET /metrics` alone on its own address (e.g. a private interface a Prometheus reaches),
 * so the public port does not serve it at all.
 */
export async function startMetricsListener(
  endpoint: MetricsEndpoint,
  { port, host, logger }: { port: number; host: string; logger: Logger },
): Promise<{ port: number; close(): Promise<void> }> {
  const app = Fastify({
    loggerInstance: logger.child({ listener: 'metrics' }),
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  registerMetricsRoute(app, endpoint);
  await app.listen({ port, host, ipv6Only: false });
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  logger.info({ port: bound, host }, 'metrics listening');
  return { port: bound, close: () => app.close() };
}
