import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import type { Services } from '../../core/services.js';
import { toHttpError } from './error-status.js';
import { registerManagementApi } from './management-api.js';
import type { DeviceAdapterOptions } from './device-adapters.js';
import { deviceAdapters } from './devices/index.js';

export interface HttpAppOptions extends DeviceAdapterOptions {
  logger: Logger;
  maxUploadBytes: number;
  https?: { cert: Buffer; key: Buffer };
  /** Extra routes registered last (the dashboard's static files). */
  extras?: ((app: FastifyInstance) => Promise<void> | void)[];
}

/**
 * Builds the HTTP transport without listening (tests call `inject`, app/ calls `listen`): health probes, the
 * management API, every device adapter, then extras.
 */
export async function buildHttpApp(services: Services, options: HttpAppOptions): Promise<FastifyInstance> {
  const serverOptions: FastifyServerOptions & { https?: object } = {
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
  if (options.https) serverOptions.https = options.https;
  const app = Fastify(serverOptions as FastifyServerOptions) as unknown as FastifyInstance;

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

  await registerManagementApi(app, services, options);
  for (const adapter of deviceAdapters) adapter(app, services, options);
  for (const extra of options.extras ?? []) await extra(app);
  return app;
}
