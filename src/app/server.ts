import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Services } from '../core/services.js';
import { buildHttpApp } from '../transports/http/http-app.js';
import { dashboardRoot, registerDashboard } from '../transports/http/dashboard.js';
import { createDropFolder } from '../transports/drop-folder/drop-folder.js';
import { createServices, openStorage, type Storage } from './services.js';
import { createLogger } from './logger.js';
import { createRiotSeedOptions, startCoap, type RunningCoap } from './coap.js';
import { createPrometheusMetrics, type PrometheusMetrics } from './metrics.js';
import { startMetricsListener } from './metrics-listener.js';
import { createSuitPush } from './suit-push.js';

export interface RunningServer {
  config: Config;
  services: Services;
  http: FastifyInstance;
  /** The bound HTTP port (useful with port 0). */
  httpPort: number;
  /** The CoAP endpoint, unless turned off. */
  coap?: RunningCoap;
  /** The Prometheus registry behind `/metrics`. */
  metrics: PrometheusMetrics;
  /** The bound port of `--metrics-port`, when the metrics have their own address. */
  metricsPort?: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * Set in a cluster worker (app/cluster.ts): the primary has migrated, swept and bootstrapped the admin token;
   * only worker 1 runs the drop folder and the CoAP endpoint.
   */
  worker?: { id: number };
}

/**
 * The composition root: config → storage → services → transports. Start-up order makes the server safe to
 * kill at any point: migrations and the crash sweep run before any port opens.
 */
export async function startServer(
  config: Config,
  logger: Logger = createLogger(config.logLevel, config.logFormat),
  { worker }: StartOptions = {},
): Promise<RunningServer> {
  const metrics = createPrometheusMetrics();
  const storage: Storage = await openStorage(config, logger, { sweep: !worker, metrics });
  const services = createServices(config, storage, logger, metrics);
  // The devices-per-version gauge: one grouped query now, then kept from the registry's writes.
  metrics.initDevices(await services.devices.versionCounts());
  metrics.observeQueue(services.devices.pendingCount);
  metrics.observeDeployments(() =>
    services.deployments.list({ states: ['scheduled', 'running', 'soaking', 'paused'] }),
  );
  services.devices.start();
  // The deployment scheduler: every step is a conditional update, so several processes may tick at once.
  const deploymentTimer = setInterval(() => {
    services.deployments
      .tick(new Date())
      .catch((err: unknown) => logger.error({ err }, 'deployment scheduler pass failed'));
  }, config.deploymentTickMs);
  deploymentTimer.unref();
  const firstProcess = !worker || worker.id === 1;

  const bootstrap = worker ? undefined : await services.tokens.bootstrapAdmin();
  if (bootstrap) {
    // Printed once, on stderr and outside the JSON log, so it is not shipped to a log collector.
    process.stderr.write(
      `\nUpdraft generated an admin token. It is shown only this once; store it now:\n\n    ${bootstrap}\n\n` +
        `Use it as "Authorization: Bearer <token>" or UPDRAFT_TOKEN for the CLI.\n\n`,
    );
  }

  const riotSeed = createRiotSeedOptions(config);
  services.deployments.usePush(
    createSuitPush(riotSeed.options.devices, services, config.coapPublicUrl, config.notifyTimeoutMs),
  );
  const httpOptions = {
    logger,
    maxUploadBytes: config.maxUploadBytes,
    riotSeed: riotSeed.options,
    accelRedirectPrefix: config.accelRedirectPrefix || undefined,
    extras: [(app: FastifyInstance) => registerDashboard(app, { root: dashboardRoot() })],
  };
  const metricsEndpoint = {
    text: () => metrics.text(),
    contentType: metrics.registry.contentType,
    token: config.metricsToken || undefined,
  };
  const http = await buildHttpApp(services, {
    ...httpOptions,
    metrics: config.metricsPort > 0 ? undefined : { ...metricsEndpoint, acceptAdmin: true },
    https: config.tlsCert
      ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) }
      : undefined,
  });
  await http.listen({ port: config.httpPort, host: config.host, ipv6Only: false });
  const address = http.server.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
  logger.info({ port: httpPort, host: config.host, tls: Boolean(config.tlsCert) }, 'HTTP listening');

  // Devices that cannot do TLS (ESP8266 without BearSSL room, ESP-AT mode 0) keep plain HTTP on its own port.
  const plainHttp =
    config.tlsCert && config.plainHttpPort > 0 ? await buildHttpApp(services, httpOptions) : undefined;
  if (plainHttp) {
    await plainHttp.listen({ port: config.plainHttpPort, host: config.host, ipv6Only: false });
    logger.info({ port: config.plainHttpPort, host: config.host, tls: false }, 'plain HTTP listening');
  }

  const metricsListener =
    config.metricsPort > 0
      ? await startMetricsListener(
          { ...metricsEndpoint, acceptAdmin: false },
          { port: config.metricsPort, host: config.metricsHost || config.host, logger },
        )
      : undefined;

  // Node 20's dgram has no SO_REUSEPORT and Observe registrations live in one process: one CoAP endpoint.
  const coap = firstProcess ? await startCoap(config, services, logger) : undefined;

  const dropFolder =
    firstProcess && config.firmwareDir
      ? createDropFolder(services, { dir: config.firmwareDir, logger })
      : undefined;
  await dropFolder?.start();

  let stopping: Promise<void> | undefined;
  async function stop(): Promise<void> {
    stopping ??= (async () => {
      logger.info('shutting down');
      await dropFolder?.stop();
      clearInterval(deploymentTimer);
      // Stop accepting; in-flight downloads get until the timeout, then their sockets are closed.
      const apps = plainHttp ? [http, plainHttp] : [http];
      const closing = Promise.all(apps.map((app) => app.close()));
      const timeout = setTimeout(
        () => apps.forEach((app) => app.server.closeAllConnections()),
        config.shutdownTimeoutMs,
      );
      await closing;
      clearTimeout(timeout);
      await metricsListener?.close();
      await coap?.stop();
      await riotSeed.close();
      await services.devices.stop();
      await storage.connection.close();
      logger.info('stopped');
    })();
    return stopping;
  }

  return {
    config,
    services,
    http,
    httpPort,
    coap,
    metrics,
    metricsPort: metricsListener?.port,
    stop,
  };
}
