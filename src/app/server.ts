import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Services } from '../core/services.js';
import { buildHttpApp } from '../transports/http/http-app.js';
import { createDropFolder } from '../transports/drop-folder/drop-folder.js';
import { createServices, openStorage, type Storage } from './services.js';
import { createLogger } from './logger.js';

export interface RunningServer {
  config: Config;
  services: Services;
  http: FastifyInstance;
  /** The bound HTTP port (useful with port 0). */
  httpPort: number;
  stop(): Promise<void>;
}

/**
 * The composition root: config → storage → services → transports. Start-up order makes the server safe to
 * kill at any point: migrations and the crash sweep run before any port opens.
 */
export async function startServer(
  config: Config,
  logger: Logger = createLogger(config.logLevel),
): Promise<RunningServer> {
  const storage: Storage = await openStorage(config, logger);
  const services = createServices(config, storage, logger);
  services.devices.start();

  const bootstrap = await services.tokens.bootstrapAdmin();
  if (bootstrap) {
    // Printed once, on stderr and outside the JSON log, so it is not shipped to a log collector.
    process.stderr.write(
      `\nUpdraft generated an admin token. It is shown only this once; store it now:\n\n    ${bootstrap}\n\n` +
        `Use it as "Authorization: Bearer <token>" or UPDRAFT_TOKEN for the CLI.\n\n`,
    );
  }

  const http = await buildHttpApp(services, {
    logger,
    maxUploadBytes: config.maxUploadBytes,
    https: config.tlsCert
      ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) }
      : undefined,
  });
  await http.listen({ port: config.httpPort, host: config.host, ipv6Only: false });
  const address = http.server.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
  logger.info({ port: httpPort, host: config.host, tls: Boolean(config.tlsCert) }, 'HTTP listening');

  const dropFolder = config.firmwareDir
    ? createDropFolder(services, { dir: config.firmwareDir, logger })
    : undefined;
  await dropFolder?.start();

  let stopping: Promise<void> | undefined;
  async function stop(): Promise<void> {
    stopping ??= (async () => {
      logger.info('shutting down');
      await dropFolder?.stop();
      // Stop accepting; in-flight downloads get until the timeout, then their sockets are closed.
      const closing = http.close();
      const timeout = setTimeout(() => http.server.closeAllConnections(), config.shutdownTimeoutMs);
      await closing;
      clearTimeout(timeout);
      await services.devices.stop();
      await storage.connection.close();
      logger.info('stopped');
    })();
    return stopping;
  }

  return { config, services, http, httpPort, stop };
}
