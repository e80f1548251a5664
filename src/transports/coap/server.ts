/** Updraft's CoAP server: endpoint + router + Block2 + Observe + /.well-known/core, wired together. */
import type { AddressInfo } from 'node:net';
import { szxOf } from './block.js';
import type { DedupCacheOptions } from './dedup-cache.js';
import { CoapEndpoint } from './endpoint.js';
import { silentLogger, type CoapLogger } from './logger.js';
import { MessageType, type Method, type Peer } from './message.js';
import { ObserveRegistry, type ObserveOptions } from './observe.js';
import { RequestProcessor, resourceKey } from './request-processor.js';
import type { CoapHandler, ResourceAttributes } from './resource.js';
import { Router, splitPattern } from './router.js';
import { DEFAULT_TRANSMISSION, Transmitter, type TransmissionParameters } from './transmission.js';
import { wellKnownCoreHandler } from './well-known-core.js';

export interface CoapServerOptions {
  /** UDP port; 0 picks a free one (tests). Default 5683 (RFC 7252 §6.1). */
  readonly port?: number;
  /** Default '::' (IPv6 and IPv4 on one socket, IPv4 alone if IPv6 is unavailable). */
  readonly host?: string;
  readonly logger?: CoapLogger;
  /** Largest block in bytes (16…1024, a power of two). Default 1024. Smaller client sizes are always honoured. */
  readonly maxBlockSize?: number;
  readonly dedup?: DedupCacheOptions;
  readonly observe?: ObserveOptions;
  /** Retransmission of CON notifications (RFC 7252 §4.8); tests shorten it. */
  readonly transmission?: Partial<TransmissionParameters>;
  readonly maxInFlight?: number;
  readonly receiveBufferSize?: number;
  /** Datagrams per second (and burst) accepted from one source address; undefined = unlimited. */
  readonly sourceRate?: { readonly perSecond: number; readonly burst: number };
  /** Cluster workers sharing the port, and where stateful datagrams go (endpoint.ts, docs/coap.md). */
  readonly sharing?: 'reuse-port' | 'cluster';
  readonly forward?: (data: Buffer, peer: Peer) => void;
}

export interface CoapServer {
  /**
   * Registers a handler. Patterns: `/suit/trigger`, `/fw/:app/:file`, `/fw/*`. `attributes` describe the
   * resource in /.well-known/core; `obs: true` makes GET with Observe 0 register an observer.
   */
  route(method: Method, pattern: string, handler: CoapHandler, attributes?: ResourceAttributes): void;
  /**
   * Re-runs the handler of every observer of `path` (e.g. '/fw/app/latest') and sends each the result as a
   * notification. Resolves with the number of observers notified, once each notification has been sent (CON
   * ones: acknowledged, reset or timed out).
   */
  notifyObservers(path: string): Promise<number>;
  listen(): Promise<AddressInfo>;
  /** Stops receiving at once; pending handlers' answers are dropped, CON retransmissions stop. */
  close(): Promise<void>;
  address(): AddressInfo;
  /** A datagram another worker forwarded (its `forward`): processed as if received on this socket. */
  receive(data: Buffer, peer: Peer): void;
  readonly observerCount: number;
}

export function createCoapServer(options: CoapServerOptions = {}): CoapServer {
  const logger = options.logger ?? silentLogger;
  const maxSzx = szxOf(options.maxBlockSize ?? 1024);
  const router = new Router();
  const observe = new ObserveRegistry(options.observe);
  const processor = new RequestProcessor({ router, observe, maxSzx, logger });
  // The transmitter sends through the endpoint, which is created next; it is only called after listen().
  const transmitter = new Transmitter((bytes, peer) => endpoint.send(bytes, peer), {
    ...DEFAULT_TRANSMISSION,
    ...options.transmission,
  });
  const endpoint = new CoapEndpoint({
    port: options.port ?? 5683,
    host: options.host ?? '::',
    logger,
    ...(options.dedup !== undefined ? { dedup: options.dedup } : {}),
    ...(options.maxInFlight !== undefined ? { maxInFlight: options.maxInFlight } : {}),
    ...(options.receiveBufferSize !== undefined ? { receiveBufferSize: options.receiveBufferSize } : {}),
    ...(options.sourceRate !== undefined ? { sourceRate: options.sourceRate } : {}),
    ...(options.sharing !== undefined ? { sharing: options.sharing } : {}),
    ...(options.forward !== undefined ? { forward: options.forward } : {}),
    onRequest: (message, peer, delegate) => processor.process(message, peer, delegate),
    onAckOrReset: (message, peer) => {
      if (transmitter.handle(message, peer)) return;
      // RFC 7641 §3.6: a RST to a (NON) notification cancels the observation.
      if (message.type === MessageType.RST) observe.resetByMessage(peer, message.messageId);
    },
  });
  router.add(
    'GET',
    '/.well-known/core',
    wellKnownCoreHandler(() => router.routes()),
    {
      hidden: true,
      // 64-byte first block: a 21-byte request gets ~90 bytes back, not the whole listing (issue 13, defect 13).
      unsolicitedSzx: 2,
    },
  );

  return {
    route: (method, pattern, handler, attributes) => {
      router.add(method, pattern, handler, attributes);
    },
    notifyObservers: (path) =>
      observe.notify(resourceKey(splitPattern(path)), {
        render: (observer, sequence) => processor.render(observer, sequence),
        nextMessageId: () => endpoint.nextMessageId(),
        send: (bytes, peer) => endpoint.send(bytes, peer),
        transmitter: transmitter,
        onError: (err) => logger.error({ err, path }, 'CoAP notification failed'),
      }),
    listen: async () => {
      const address = await endpoint.listen();
      logger.info({ address: address.address, port: address.port }, 'CoAP endpoint listening');
      return address;
    },
    close: async () => {
      transmitter.close();
      observe.clear();
      await endpoint.close();
    },
    address: () => endpoint.address(),
    receive: (data, peer) => endpoint.receive(data, peer),
    get observerCount() {
      return observe.size;
    },
  };
}
