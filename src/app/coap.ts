import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Services } from '../core/services.js';
import { createCoapClient, createCoapServer, type CoapServer, type Peer } from '../transports/coap/index.js';
import { coapAdapters } from '../transports/coap/adapters/index.js';
import { createSuitDevices } from '../transports/coap/adapters/riot-publish.js';
import { createDeviceAdmission } from '../transports/coap/adapters/device-admission.js';
import type { RiotSeedOptions } from '../transports/http/device-adapters.js';
import { familyName } from '../transports/family-name.js';
import { countedCoapServer } from '../transports/coap/counted-server.js';
import { reusePortSupported } from '../transports/coap/reuse-port.js';
import { clusterCoapLink, COAP_HOME_SLOT } from './cluster.js';

export interface RunningCoap {
  server: CoapServer;
  port: number;
  stop(): Promise<void>;
}

const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/** This process as one of `--workers N` (app/cluster.ts). */
export interface CoapWorker {
  readonly slot: number;
  /** The port the primary chose for `--coap-port 0` when each worker binds its own SO_REUSEPORT socket. */
  readonly port?: number | undefined;
}

/**
 * How the workers share the port: SO_REUSEPORT where Node has it (the kernel keeps each source on one worker),
 * else the cluster's shared handle, on which any worker may read any datagram, so those needing per-peer state
 * (ACK/RST, non-GET, Observe, `peerState` routes) are forwarded to the home worker (docs/coap.md).
 */
async function sharingFor(worker: CoapWorker | undefined): Promise<{
  sharing?: 'reuse-port' | 'cluster';
  forward?: (data: Buffer, peer: Peer) => void;
  home?: { onForwarded(receive: (data: Buffer, peer: Peer) => void): void };
}> {
  if (worker === undefined) return {};
  if (await reusePortSupported()) return { sharing: 'reuse-port' };
  const link = clusterCoapLink();
  if (link === undefined) return {};
  const home = worker.slot === COAP_HOME_SLOT;
  return { sharing: 'cluster', ...(home ? { home: link } : { forward: link.forward }) };
}

/** Starts the CoAP endpoint with every CoAP adapter, unless `--coap-port -1` turned it off. */
export async function startCoap(
  config: Config,
  services: Services,
  logger: Logger,
  worker?: CoapWorker,
): Promise<RunningCoap | undefined> {
  if (config.coapPort < 0) return undefined;
  const { home, ...sharing } = await sharingFor(worker);
  const server = createCoapServer({
    ...sharing,
    port: worker?.port ?? config.coapPort,
    // 1,000 block-wise clients with one request out each queue ~1 MB of datagrams (kernel memory, not RSS);
    // Linux's default 208 KiB dropped thousands per burst, each costing a client ACK_TIMEOUT (the kernel caps
    // this at net.core.rmem_max).
    receiveBufferSize: RECEIVE_BUFFER_BYTES,
    host: config.host,
    logger: logger.child({ transport: 'coap' }),
    ...(config.coapSourceRate > 0
      ? { sourceRate: { perSecond: config.coapSourceRate, burst: 2 * config.coapSourceRate } }
      : {}),
  });
  const client = createCoapClient();
  // One budget for every CoAP adapter: unauthenticated sources create device records at a bounded rate.
  const deviceIds = createDeviceAdmission(config.coapNewDevicesPerMinute);
  const undo = coapAdapters.map((adapter) =>
    adapter(countedCoapServer(server, familyName(adapter), services.metrics), services, {
      publicUrl: config.coapPublicUrl,
      client,
      deviceIds,
    }),
  );
  home?.onForwarded((data, peer) => server.receive(data, peer));
  const address = await server.listen();
  logger.info({ port: address.port, host: config.host, sharing: sharing.sharing }, 'CoAP listening');
  return {
    server,
    port: address.port,
    async stop() {
      for (const u of undo) u?.();
      await server.close();
      await client.close();
    },
  };
}

/**
 * What the RIOT seed's HTTP endpoints need (`POST /notify` sends CoAP to devices): its own CoAP client, so that
 * notify works in every HTTP worker and whether or not this process runs the CoAP endpoint.
 */
export function createRiotSeedOptions(config: Config): {
  options: RiotSeedOptions;
  /** The bound CoAP port, once known (with `--coap-port 0` only after the endpoint listens). */
  setCoapPort(port: number): void;
  close(): Promise<void>;
} {
  const client = createCoapClient();
  let coapPort = config.coapPort > 0 ? config.coapPort : undefined;
  return {
    setCoapPort: (port) => (coapPort = port),
    options: {
      coapPort: () => coapPort,
      auth: config.seedEndpointsAuth,
      coapPublicUrl: config.coapPublicUrl,
      maxUploadBytes: config.maxUploadBytes,
      concurrency: config.notifyConcurrency,
      timeoutMs: config.notifyTimeoutMs,
      maxDevices: config.notifyMaxDevices,
      maxQueued: config.notifyMaxQueued,
      allow: config.notifyAllow,
      ports: config.notifyPorts,
      devices: createSuitDevices(client),
    },
    close: () => client.close(),
  };
}
