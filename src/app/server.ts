import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Services } from '../core/services.js';
import { buildHttpApp } from '../transports/http/http-app.js';
import { dashboardRoot, registerDashboard } from '../transports/http/dashboard.js';
import { createDropFolder } from '../transports/drop-folder/drop-folder.js';
import { SYSTEM } from '../core/audit/context.js';
import { createBlobGc, createServices, openStorage, type Storage } from './services.js';
import type { BlobGcReport } from '../core/blobs/blob-gc.js';
import { createLogger } from './logger.js';
import { createRiotSeedOptions, startCoap, type RunningCoap } from './coap.js';
import { createFixedLeadership, createLeadership, type Leadership } from './leader.js';
import { createPgLockProvider } from '../storage/sql/pg-advisory-lock.js';
import { lockSqliteDatabase } from './sqlite-lock.js';
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
  /**
   * Singleton work (drop folder, blob GC, the deployment scheduler): on PostgreSQL
   * one replica at a time, chosen with `pg_advisory_lock`; on SQLite this process (cluster: worker 1).
   */
  leadership: Leadership;
  /** One pass of blob garbage collection (also run on a timer where `blobGcIntervalMs` > 0). */
  runBlobGc(now?: Date): Promise<BlobGcReport>;
  /** The Prometheus registry behind `/metrics`. */
  metrics: PrometheusMetrics;
  /** The bound port of `--metrics-port`, when the metrics have their own address. */
  metricsPort?: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * Set in a cluster worker (app/cluster.ts): the primary has migrated, swept and bootstrapped the admin token;
   * only worker 1 runs the drop folder; every worker runs the CoAP endpoint (app/coap.ts).
   */
  worker?: { id: number; coapPort?: number | undefined };
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
  // SQLite serves one process (its cluster workers aside): a second `serve` on the same file is refused.
  const unlock = worker ? () => undefined : lockSqliteDatabase(config.databaseUrl);
  const metrics = createPrometheusMetrics();
  let storage: Storage;
  try {
    storage = await openStorage(config, logger, { sweep: !worker, metrics });
  } catch (err) {
    unlock();
    throw err;
  }
  const services = createServices(config, storage, logger, metrics);
  // The devices-per-version gauge: one grouped query now, then kept from the registry's writes.
  const versionCounts = await services.devices.versionCounts();
  metrics.initDevices(versionCounts);
  await startCheckInWorkerForLargeFleet(storage, versionCounts, logger);
  metrics.observeQueue(services.devices.pendingCount);
  metrics.observeDeployments(() =>
    services.deployments.list({ states: ['scheduled', 'running', 'soaking', 'paused'] }),
  );
  services.devices.start();
  const firstProcess = !worker || worker.id === 1;

  const bootstrap = worker ? undefined : await services.tokens.bootstrapAdmin(SYSTEM);
  if (bootstrap) {
    // Printed once, on stderr and outside the JSON log, so it is not shipped to a log collector.
    process.stderr.write(
      `\nUpdraft generated an admin token. It is shown only this once; store it now:\n\n    ${bootstrap}\n\n` +
        `Use it as "Authorization: Bearer <token>" or UPDRAFT_TOKEN for the CLI.\n\n`,
    );
  }

  const leadership =
    storage.connection.dialect === 'postgres'
      ? createLeadership(createPgLockProvider(config.databaseUrl), logger, {
          pollMs: config.leaderPollMs,
        })
      : createFixedLeadership(firstProcess);

  // Created here, started below on the leader only: the HTTP adapters get its freshen hook (a no-op while this
  // process does not run the folder), so a simple-polling download sees a file written a moment ago.
  const dropFolder = config.firmwareDir
    ? createDropFolder(services, { dir: config.firmwareDir, logger })
    : undefined;

  const riotSeed = createRiotSeedOptions(config);
  services.deployments.usePush(
    createSuitPush(riotSeed.options.devices, services, config.coapPublicUrl, config.notifyTimeoutMs),
  );
  const httpOptions = {
    logger,
    trustProxy: config.trustProxy,
    maxUploadBytes: config.maxUploadBytes,
    bodyIdleTimeoutMs: config.bodyIdleTimeoutMs,
    riotSeed: riotSeed.options,
    accelRedirectPrefix: config.accelRedirectPrefix || undefined,
    ddiTenants: config.ddiTenants,
    downloadRedirectTtlS: config.s3Redirect ? config.s3RedirectTtlS : undefined,
    freshen: dropFolder ? (product: string) => dropFolder.freshen(product) : undefined,
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

  // Every worker serves CoAP on the one port (docs/coap.md, "On every core"); observers hear of changes made
  // through any worker or replica through the events bus.
  const coap = await startCoap(
    config,
    services,
    logger,
    worker ? { slot: worker.id, port: worker.coapPort } : undefined,
  );
  if (coap) riotSeed.setCoapPort(coap.port);

  if (dropFolder)
    await leadership.whileLeader(
      'drop-folder',
      () => dropFolder.start(),
      () => dropFolder.stop(),
    );

  // The deployment scheduler runs on the leader only. Every step is also a conditional update in the database, so
  // an overlap while another replica takes over can never advance a wave twice.
  let deploymentTimer: NodeJS.Timeout | undefined;
  await leadership.whileLeader(
    'deployment-scheduler',
    () => {
      deploymentTimer = setInterval(() => {
        services.deployments
          .tick(new Date())
          .catch((err: unknown) => logger.error({ err }, 'deployment scheduler pass failed'));
      }, config.deploymentTickMs);
      deploymentTimer.unref();
    },
    () => clearInterval(deploymentTimer),
  );

  // Garbage collection (which also sweeps abandoned temporary uploads) runs on the leader: one process (with
  // --workers, worker 1), or one replica on PostgreSQL.
  const runBlobGc = createBlobGc(config, storage, logger);
  let gcRunning: Promise<unknown> | undefined;
  let gcTimer: NodeJS.Timeout | undefined;
  if (config.blobGcIntervalMs > 0) {
    await leadership.whileLeader(
      'blob-gc',
      () => {
        gcTimer = setInterval(() => {
          gcRunning ??= runBlobGc()
            .catch((err: unknown) => logger.error({ err }, 'blob garbage collection failed'))
            .finally(() => (gcRunning = undefined));
        }, config.blobGcIntervalMs);
        gcTimer.unref();
      },
      async () => {
        clearInterval(gcTimer);
        await gcRunning;
      },
    );
  }

  let stopping: Promise<void> | undefined;
  async function stop(): Promise<void> {
    stopping ??= (async () => {
      logger.info('shutting down');
      await leadership.close();
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
      await storage.events.close();
      await storage.connection.close();
      unlock();
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
    leadership,
    runBlobGc,
    metrics,
    metricsPort: metricsListener?.port,
    stop,
  };
}

/**
 * A large fleet's first flush after a restart is its largest: the SQLite check-in worker is up before it (ADR
 * 0001). One that cannot start is logged; batches are then written on this thread, as for a small fleet.
 */
async function startCheckInWorkerForLargeFleet(
  storage: Storage,
  versionCounts: { count: number }[],
  logger: Logger,
): Promise<void> {
  const devices = versionCounts.reduce((n, row) => n + row.count, 0);
  await storage.connection.checkInWriter?.startForFleet(devices).then(
    (started) => {
      if (started) logger.info({ devices }, 'SQLite check-in worker started for a large fleet');
    },
    (err: unknown) =>
      logger.warn(
        { err },
        'the SQLite check-in worker did not start: check-ins are written on the main thread',
      ),
  );
}
