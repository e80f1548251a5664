import type { Command } from 'commander';
import { loadConfig, type Config } from '../../config/config.js';
import { startServer } from '../../app/server.js';
import { createLogger } from '../../app/logger.js';
import { isClusterWorker, runPrimary, workerSlot } from '../../app/cluster.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the update server (HTTP devices + management API + dashboard, CoAP devices)')
    .option('--http-port <port>', 'HTTP port (env UPDRAFT_HTTP_PORT, default 8080)')
    .option('--coap-port <port>', 'CoAP UDP port, -1 to disable (env UPDRAFT_COAP_PORT, default 5683)')
    .option('--host <host>', 'address to bind (env UPDRAFT_HOST, default :: = all IPv6 and IPv4)')
    .option('--data <dir>', 'data folder (env UPDRAFT_DATA, default ./data)')
    .option('--database-url <url>', 'sqlite:<path> or postgres://... (env UPDRAFT_DATABASE_URL)')
    .option('--firmware-dir <dir>', 'drop folder to import and watch (env UPDRAFT_FIRMWARE_DIR)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env UPDRAFT_LOG_LEVEL)')
    .option('--max-upload-bytes <n>', 'largest release upload (env UPDRAFT_MAX_UPLOAD_BYTES)')
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS on the HTTP port (env UPDRAFT_TLS_CERT)')
    .option('--tls-key <file>', 'PEM private key (env UPDRAFT_TLS_KEY)')
    .option(
      '--plain-http-port <port>',
      'also serve plain HTTP on this port when TLS is on (env UPDRAFT_PLAIN_HTTP_PORT)',
    )
    .option('--coap-public-url <url>', 'CoAP URL devices reach this server at (env UPDRAFT_COAP_PUBLIC_URL)')
    .option('--keys-dir <dir>', 'signing keys folder (env UPDRAFT_KEYS_DIR, default <data>/keys)')
    .option(
      '--accel-redirect-prefix <path>',
      'nginx in front: answer downloads with X-Accel-Redirect to this internal location (env UPDRAFT_ACCEL_REDIRECT_PREFIX)',
    )
    .option(
      '--workers <n>',
      'HTTP worker processes sharing the port, or auto (env UPDRAFT_WORKERS, default 1)',
    )
    .option(
      '--no-seed-auth',
      'RIOT seed endpoints (/publish, /notify, /remove, /coap/url) without the admin token (env UPDRAFT_SEED_ENDPOINTS_AUTH=false)',
    )
    .option(
      '--notify-concurrency <n>',
      'devices notified at once (env UPDRAFT_NOTIFY_CONCURRENCY, default 16)',
    )
    .option(
      '--notify-timeout-ms <ms>',
      'per-device notify deadline (env UPDRAFT_NOTIFY_TIMEOUT_MS, default 20000)',
    )
    .option(
      '--ddi-tenants <spec>',
      'hawkBit DDI tenants and their products, "default=*;acme=p1,p2" (env UPDRAFT_DDI_TENANTS)',
    )
    .option(
      '--trust-proxy <addresses>',
      'load balancers whose X-Forwarded-For gives the device address: addresses/CIDRs, comma-separated (env UPDRAFT_TRUST_PROXY)',
    )
    .option(
      '--blob-store <location>',
      'where images live: s3://<bucket>[/<prefix>] (env UPDRAFT_BLOB_STORE, default <data>/blobs)',
    )
    .option('--s3-endpoint <url>', 'S3-compatible endpoint, e.g. http://rgw:7480 (env UPDRAFT_S3_ENDPOINT)')
    .option(
      '--s3-redirect',
      'answer downloads of clients that follow redirects with a 302 to a presigned URL (env UPDRAFT_S3_REDIRECT)',
    )
    .option('--config <file>', 'YAML configuration file (env UPDRAFT_CONFIG; docs/configuration.md)')
    .option(
      '--metrics-token <token>',
      'bearer token for GET /metrics (env UPDRAFT_METRICS_TOKEN; prefer the environment)',
    )
    .option('--metrics-port <port>', 'serve /metrics on its own port instead (env UPDRAFT_METRICS_PORT)')
    .option('--metrics-host <host>', 'address of the metrics port (env UPDRAFT_METRICS_HOST)')
    .option('--log-format <format>', 'auto|json|pretty (env UPDRAFT_LOG_FORMAT, default auto)')
    .action(async (flags: Record<string, string | undefined>) => {
      let config: Config;
      try {
        config = loadConfig(
          serveOverrides(flags),
          process.env,
          flags.config ?? (process.env.UPDRAFT_CONFIG || undefined),
        );
      } catch (err) {
        process.stderr.write(`updraft: ${(err as Error).message}\n`);
        process.exit(2);
      }
      const logger = createLogger(config.logLevel, config.logFormat);
      // A full disk under stdout/stderr must not crash or stop the server (issue 13, defect 9): the logger
      // drops lines it cannot write, and a failed direct write (the bootstrap token notice) is ignored.
      for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
      if (config.workers > 1 && !isClusterWorker()) {
        await runPrimary(config, logger);
        return;
      }
      const start = isClusterWorker() ? await workerSlot() : undefined;
      const worker = start ? { id: start.slot, coapPort: start.coapPort } : undefined;
      const server = await startServer(config, logger.child(worker ? { worker: worker.id } : {}), {
        worker,
      });
      let shuttingDown = false;
      const shutdown = (signal: string) => {
        // A second SIGINT (Ctrl-C twice) means "now"; a repeated SIGTERM from a supervisor changes nothing.
        if (shuttingDown) {
          if (signal === 'SIGINT') process.exit(130);
          return;
        }
        shuttingDown = true;
        logger.info({ signal }, 'signal received');
        server.stop().then(
          () => process.exit(0),
          (err) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => shutdown('SIGINT'));
      process.on('SIGTERM', () => shutdown('SIGTERM'));
    });
}

/** The `serve` flags as configuration overrides (also what `updraft config check` applies). */
export function serveOverrides(
  flags: Record<string, string | undefined>,
): Partial<Record<keyof Config, unknown>> {
  return {
    httpPort: flags.httpPort,
    coapPort: flags.coapPort,
    host: flags.host,
    dataDir: flags.data,
    databaseUrl: flags.databaseUrl,
    firmwareDir: flags.firmwareDir,
    logLevel: flags.logLevel,
    maxUploadBytes: flags.maxUploadBytes,
    tlsCert: flags.tlsCert,
    tlsKey: flags.tlsKey,
    plainHttpPort: flags.plainHttpPort,
    coapPublicUrl: flags.coapPublicUrl,
    keysDir: flags.keysDir,
    accelRedirectPrefix: flags.accelRedirectPrefix,
    workers: flags.workers,
    // commander sets seedAuth to true when --no-seed-auth is absent: only "off" overrides the environment.
    seedEndpointsAuth: (flags.seedAuth as unknown) === false ? false : undefined,
    notifyConcurrency: flags.notifyConcurrency,
    notifyTimeoutMs: flags.notifyTimeoutMs,
    metricsToken: flags.metricsToken,
    metricsPort: flags.metricsPort,
    metricsHost: flags.metricsHost,
    logFormat: flags.logFormat,
    ddiTenants: flags.ddiTenants,
    trustProxy: flags.trustProxy,
    blobStore: flags.blobStore,
    s3Endpoint: flags.s3Endpoint,
    s3Redirect: (flags.s3Redirect as unknown) === true ? true : undefined,
  };
}
