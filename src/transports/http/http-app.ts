import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import type { Services } from '../../core/services.js';
import { toHttpError } from './error-status.js';
import { registerManagementApi } from './management-api.js';
import type { DeviceAdapterOptions } from './device-adapters.js';
import { deviceAdapters } from './devices/index.js';
import { registerBodyWatch } from './body-watch.js';
import { familyName } from '../family-name.js';
import { registerMetricsRoute, type MetricsEndpoint } from './metrics-route.js';
import { rejectMultipartWithoutBoundary } from './multipart-guard.js';
import { trackRoutes } from './route-registry.js';

export interface HttpAppOptions extends DeviceAdapterOptions {
  logger: Logger;
  maxUploadBytes: number;
  /** A request body silent this long is answered 408 and its upload cleaned up, ms; 0 = never. */
  bodyIdleTimeoutMs?: number;
  https?: { cert: Buffer; key: Buffer };
  /**
   * Proxies whose `X-Forwarded-For` is believed (fastify `trustProxy`): addresses or CIDRs, comma-separated,
   * `loopback`, or `true` (every peer: only when nothing else can reach the port); empty = none, and a device's address is the socket's peer.
   */
  trustProxy?: string;
  /** Extra routes registered last (the dashboard's static files). */
  extras?: ((app: FastifyInstance) => Promise<void> | void)[];
  /** `GET /metrics` on this app (absent when the metrics have their own address, `--metrics-port`). */
  metrics?: MetricsEndpoint;
}

const trustProxyOption = (value: string): boolean | string => (value === 'true' ? true : value);

/**
 * Builds the HTTP transport without listening (tests call `inject`, app/ calls `listen`): health probes, the
 * management API, every device adapter, then extras.
 */
/** Bytes a response's socket queues before a piped body pauses, on every Node version (see buildHttpApp). */
export const SOCKET_HIGH_WATER_MARK = 16 * 1024;

export async function buildHttpApp(services: Services, options: HttpAppOptions): Promise<FastifyInstance> {
  const serverOptions: FastifyServerOptions & { https?: object; http?: object } = {
    // What a connection's socket may queue before a streamed body waits for it (node:http `highWaterMark`).
    // Node 20 defaults to 16 KiB, Node 22 and later to 64 KiB; a stalled device then pinned four times as much
    // (issue 13, defect 7: 40 stalled downloads held 11-14 MiB on Node 24 against 5-7 on Node 20). Fast
    // downloads do not need more: each 1 MiB chunk fills the queue by itself.
    http: { highWaterMark: SOCKET_HIGH_WATER_MARK },
    loggerInstance: options.logger,
    // Devices poll constantly: one log line per request would cost more than the answer.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // Seed devices send odd but harmless paths (`//firmware`); keep routing literal.
    // Names go up to 128 characters (core/names.ts); fastify's default of 100 per parameter refused them
    // (FST_ERR_MAX_PARAM_LENGTH), so leave room for a percent-encoded name.
    routerOptions: { ignoreDuplicateSlashes: true, maxParamLength: 512 },
  };
  if (options.https) serverOptions.https = { ...options.https, highWaterMark: SOCKET_HIGH_WATER_MARK };
  if (options.trustProxy) serverOptions.trustProxy = trustProxyOption(options.trustProxy);
  const app = Fastify(serverOptions as FastifyServerOptions) as unknown as FastifyInstance;
  trackRoutes(app);

  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toHttpError(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send({ code: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0]}` });
  });

  // Every route carries the protocol family that registered it, for updraft_requests_total and the
  // download counters (a label lookup per request; the label set is the fixed list of adapters).
  let family = 'health';
  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { family?: string };
    route.config = { ...config, family: config.family ?? family } as typeof route.config;
  });
  // A callback hook (no promise and microtask per request, as an async one would cost).
  app.addHook('onResponse', (request, reply, next) => {
    const routeFamily = (request.routeOptions.config as { family?: string } | undefined)?.family;
    services.metrics.request('http', routeFamily ?? 'unmatched', reply.statusCode);
    next();
  });
  app.addHook('onRequest', rejectMultipartWithoutBoundary);
  registerBodyWatch(app, options.bodyIdleTimeoutMs ?? 30_000);

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await services.readiness();
      return { status: 'ready' };
    } catch (err) {
      reply.code(503);
      return { status: 'not ready', message: (err as Error).message };
    }
  });

  if (options.metrics) {
    family = 'metrics';
    registerMetricsRoute(app, options.metrics, services.tokens);
  }
  family = 'api';
  await registerManagementApi(app, services, options);
  for (const adapter of deviceAdapters) {
    family = familyName(adapter);
    adapter(app, services, options);
  }
  family = 'dashboard';
  for (const extra of options.extras ?? []) await extra(app);
  return app;
}
