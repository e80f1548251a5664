/**
 * The CoAP message layer over node:dgram (RFC 7252 §4): parses datagrams, rejects what it cannot process,
 * deduplicates CONs, piggybacks responses on the ACK (§5.2.1), answers NON with NON (§5.2.3), and hands
 * ACK/RST for our own CONs to whoever sent them.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { lookup as dnsLookup, type LookupOptions } from 'node:dns';
import { isIP, isIPv6, type AddressInfo } from 'node:net';
import { parse, serialize, serializeEmpty } from './codec.js';
import { DedupCache, type DedupCacheOptions, type DedupEntry } from './dedup-cache.js';
import type { CoapLogger } from './logger.js';
import { Code, isRequestCode, isResponseCode, MessageType, type CoapMessage, type Peer } from './message.js';
import { Opt, uintOption } from './options.js';
import { isPromiseLike, type MaybePromise } from './maybe-async.js';
import type { Outcome } from './response.js';
import { createRateLimiter, type RateLimiter } from '../../core/rate-limit.js';

export interface EndpointOptions {
  readonly port: number;
  /** '::' (default) listens on IPv6 and IPv4 with one dual-stack socket, falling back to IPv4 alone. */
  readonly host: string;
  readonly logger: CoapLogger;
  readonly dedup?: DedupCacheOptions;
  /** Requests being processed at once; past it new ones get 5.03 with Max-Age (RFC 7252 §5.9.3.4). */
  readonly maxInFlight?: number;
  /**
   * Also deduplicate GET (remember its response bytes). Default false: GET is idempotent and block serving is
   * stateless, so a retransmitted GET is simply answered again (RFC 7252 §4.5).
   */
  readonly dedupGet?: boolean;
  /**
   * Datagrams accepted per source address (RFC 7252 §11.3: a server must not amplify floods with spoofed
   * sources); past it datagrams are dropped unanswered. Undefined = unlimited.
   */
  readonly sourceRate?: { readonly perSecond: number; readonly burst: number };
  /** SO_RCVBUF in bytes, for many concurrent block-wise clients; the kernel may cap it. */
  readonly receiveBufferSize?: number;
  /**
   * How cluster workers share the port (docs/coap.md, "On every core"). `reuse-port`: each process binds its own
   * SO_REUSEPORT socket and the kernel hashes a source's 4-tuple to one of them (Node ≥ 22.12). `cluster`: the
   * cluster primary's one socket handle, read by every worker, each datagram by whichever worker reads first.
   * Default: Node's default (in a cluster worker, the shared handle).
   */
  readonly sharing?: 'reuse-port' | 'cluster';
  /**
   * Set on every `cluster`-sharing worker but the home one: datagrams that need per-peer state (ACK, RST,
   * non-GET requests, Observe, routes marked `peerState`) go there whole and are answered from the same socket.
   */
  readonly forward?: (data: Buffer, peer: Peer) => void;
  /** `delegate`: this endpoint forwards stateful requests; the processor answers them with `forward`. */
  readonly onRequest: (message: CoapMessage, peer: Peer, delegate: boolean) => MaybePromise<Outcome>;
  /** An ACK or RST that might belong to one of our CONs or NON notifications. */
  readonly onAckOrReset: (message: CoapMessage, peer: Peer) => void;
}

/**
 * dgram resolves every destination with dns.lookup, which answers an IP literal on the next tick: one tick per
 * datagram sent. Peers are always the literal addresses datagrams came from, so they are answered at once; a
 * name (never passed here) still goes to dns.lookup.
 */
const literalLookup = ((hostname: string, options: unknown, callback: LookupCallback): void => {
  const family = isIP(hostname);
  if (family === 0) dnsLookup(hostname, { ...(options as LookupOptions), all: false }, callback);
  else callback(null, hostname, family);
}) as unknown as dgram.SocketOptions['lookup'];

const getKey = (peer: Peer, message: CoapMessage): string =>
  `${peer.address}|${peer.port}|${message.messageId}`;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

export class CoapEndpoint {
  readonly #options: EndpointOptions;
  readonly #logger: CoapLogger;
  readonly #dedup: DedupCache;
  readonly #maxInFlight: number;
  readonly #dedupGet: boolean;
  #socket: dgram.Socket | undefined;
  #closed = false;
  #inFlight = 0;
  #messageId = randomInt(0x10000);
  readonly #sources: RateLimiter | undefined;
  /** GETs whose (asynchronous) handler is still running, by peer and message id: retransmissions wait. */
  readonly #pendingGets = new Set<string>();

  constructor(options: EndpointOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#dedup = new DedupCache(options.dedup);
    this.#maxInFlight = options.maxInFlight ?? 4096;
    this.#dedupGet = options.dedupGet ?? false;
    this.#sources =
      options.sourceRate && options.sourceRate.perSecond > 0
        ? createRateLimiter(options.sourceRate)
        : undefined;
  }

  async listen(): Promise<AddressInfo> {
    const { host, port } = this.#options;
    if (host === '::') {
      try {
        this.#socket = await this.#bind('udp6', port, host);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL' && code !== 'EINVAL') throw err;
        this.#logger.warn({ err }, 'IPv6 unavailable; CoAP listens on IPv4 only');
        this.#socket = await this.#bind('udp4', port, '0.0.0.0');
      }
    } else {
      this.#socket = await this.#bind(isIPv6(host) ? 'udp6' : 'udp4', port, host);
    }
    const socket = this.#socket;
    socket.on('message', (data, rinfo) =>
      this.#onDatagram(data, { address: rinfo.address, port: rinfo.port }, this.#options.forward, true),
    );
    socket.on('error', (err) => this.#logger.warn({ err }, 'CoAP socket error'));
    return socket.address();
  }

  #bind(type: 'udp4' | 'udp6', port: number, host: string): Promise<dgram.Socket> {
    const size = this.#options.receiveBufferSize;
    const sharing = this.#options.sharing;
    const socket = dgram.createSocket({
      type,
      ...(type === 'udp6' ? { ipv6Only: false } : {}),
      ...(size !== undefined ? { recvBufferSize: size } : {}),
      lookup: literalLookup,
      // Node ≥ 22.12 (absent from Node 20's types); it makes bind() exclusive, i.e. not the cluster's handle.
      ...(sharing === 'reuse-port' ? ({ reusePort: true } as object) : {}),
    });
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close();
        reject(err);
      };
      socket.once('error', onError);
      const exclusive = sharing === 'cluster' ? { exclusive: false } : {};
      socket.bind({ port, address: host, ...exclusive }, () => {
        socket.off('error', onError);
        resolve(socket);
      });
    });
  }

  address(): AddressInfo {
    if (this.#socket === undefined) throw new Error('CoAP endpoint is not listening');
    return this.#socket.address();
  }

  nextMessageId(): number {
    this.#messageId = (this.#messageId + 1) & 0xffff;
    return this.#messageId;
  }

  send(bytes: Buffer, peer: Peer): void {
    if (this.#closed || this.#socket === undefined) return;
    // No callback: Node then skips a nextTick per datagram; send errors reach the socket's 'error' listener.
    this.#socket.send(bytes, peer.port, peer.address);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#dedup.close();
    const socket = this.#socket;
    if (socket !== undefined) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  /** A datagram another worker received and forwarded here (`forward`): processed as if it came in here. */
  receive(data: Buffer, peer: Peer): void {
    if (!this.#closed) this.#onDatagram(data, peer, undefined, false);
  }

  #onDatagram(
    data: Buffer,
    peer: Peer,
    forward: ((data: Buffer, peer: Peer) => void) | undefined,
    fromSocket: boolean,
  ): void {
    // Before parsing: a source over its budget costs one map lookup and gets nothing back (RFC 7252 §11.3).
    // A forwarded datagram was counted by the worker that received it.
    if (fromSocket && this.#sources !== undefined && !this.#sources.take(peer.address)) return;
    const parsed = parse(data);
    if (!parsed.ok) {
      // RFC 7252 §4.2: a CON we cannot process is rejected with RST; anything else is silently ignored
      // (§4.3), as is a wrong version (§3), for which parse reports no header.
      if (parsed.header?.type === MessageType.CON)
        this.send(serializeEmpty(MessageType.RST, parsed.header.messageId), peer);
      this.#logger.debug({ peer, kind: parsed.kind }, 'CoAP message format error');
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case MessageType.ACK:
      case MessageType.RST:
        // §4.2/§4.3: an ACK or RST carrying a request code is a format error and ignored.
        if (message.code === Code.EMPTY || isResponseCode(message.code)) {
          // Only the home worker sends CONs and NON notifications, so their ACKs and RSTs belong there.
          if (forward !== undefined) forward(data, peer);
          else this.#options.onAckOrReset(message, peer);
        }
        return;
      default:
        if (isRequestCode(message.code)) {
          // Non-GET requests are deduplicated by message id (§4.5): one cache, in the home worker.
          if (forward !== undefined && message.code !== Code.GET) forward(data, peer);
          else this.#onRequest(message, peer, data, forward);
          return;
        }
        // §4.3 ping (Empty CON), §5.3.2 unexpected response, §3 reserved code class: a CON gets RST.
        if (message.type === MessageType.CON)
          this.send(serializeEmpty(MessageType.RST, message.messageId), peer);
    }
  }

  #onRequest(
    message: CoapMessage,
    peer: Peer,
    data: Buffer,
    forward: ((data: Buffer, peer: Peer) => void) | undefined,
  ): void {
    // RFC 7252 §4.5 lets a server process duplicates of idempotent requests again instead of keeping state
    // per message id. For GET that is cheaper and gives the same bytes: block serving is stateless, and
    // retaining a response per block for EXCHANGE_LIFETIME cost ~40 % more CPU (GC) under load.
    if (message.code === Code.GET && !this.#dedupGet) {
      // A handler slower than ACK_TIMEOUT (2 s) would otherwise run again for each retransmission; while it
      // runs, duplicates are dropped and the one answer goes out when it is ready (§4.5). Synchronous answers
      // (the usual cached block) keep no state.
      // The key string is only built while some handler is pending or this one turns out asynchronous.
      if (this.#pendingGets.size > 0 && this.#pendingGets.has(getKey(peer, message))) return;
      if (this.#overloaded(message, peer)) return;
      const pending = this.#process(message, peer, undefined, data, forward);
      if (pending !== undefined) {
        const key = getKey(peer, message);
        this.#pendingGets.add(key);
        void pending.then(() => this.#pendingGets.delete(key));
      }
      return;
    }
    const key = `${peer.address}|${peer.port}|${message.messageId}`;
    const seen = this.#dedup.get(key);
    if (seen !== undefined) {
      // §4.5: the same answer again for a retransmitted CON; duplicates still being processed and
      // duplicate NONs are dropped.
      if (seen.response !== undefined) this.send(seen.response, peer);
      return;
    }
    if (!this.#overloaded(message, peer))
      this.#process(message, peer, this.#dedup.begin(key), data, undefined);
  }

  /** Too many handlers pending: 5.03 with Max-Age, after which the client may retry (RFC 7252 §5.9.3.4). */
  #overloaded(message: CoapMessage, peer: Peer): boolean {
    if (this.#inFlight < this.#maxInFlight) return false;
    this.#answer(message, peer, {
      kind: 'reply',
      code: Code.SERVICE_UNAVAILABLE,
      options: [uintOption(Opt.MAX_AGE, 1)],
      payload: Buffer.alloc(0),
    });
    return true;
  }

  /**
   * Runs the request and sends the answer, remembering it in `entry` for retransmissions. Returns a promise
   * settled once the answer is sent when the handler is asynchronous.
   */
  #process(
    message: CoapMessage,
    peer: Peer,
    entry: DedupEntry | undefined,
    data: Buffer,
    forward: ((data: Buffer, peer: Peer) => void) | undefined,
  ): Promise<void> | undefined {
    let outcome: MaybePromise<Outcome>;
    try {
      outcome = this.#options.onRequest(message, peer, forward !== undefined);
    } catch (err) {
      outcome = this.#internalError(err);
    }
    if (!isPromiseLike(outcome)) {
      // The request needs per-peer state (Observe, a `peerState` route): the home worker answers it.
      if (outcome.kind === 'forward') {
        forward?.(data, peer);
        return undefined;
      }
      const bytes = this.#answer(message, peer, outcome);
      if (entry !== undefined) this.#dedup.complete(entry, bytes);
      return undefined;
    }
    this.#inFlight++;
    return Promise.resolve(outcome).then(
      (o) => {
        this.#inFlight--;
        const bytes = this.#answer(message, peer, o);
        if (entry !== undefined) this.#dedup.complete(entry, bytes);
      },
      (err: unknown) => {
        this.#inFlight--;
        const bytes = this.#answer(message, peer, this.#internalError(err));
        if (entry !== undefined) this.#dedup.complete(entry, bytes);
      },
    );
  }

  #internalError(err: unknown): Outcome {
    this.#logger.error({ err }, 'CoAP request processing failed');
    return { kind: 'reply', code: Code.INTERNAL_SERVER_ERROR, options: [], payload: Buffer.alloc(0) };
  }

  /** Sends the response; returns the bytes to replay for a retransmitted CON, undefined for NON. */
  #answer(request: CoapMessage, peer: Peer, outcome: Outcome): Buffer | undefined {
    const confirmable = request.type === MessageType.CON;
    let bytes: Buffer;
    if (outcome.kind === 'forward') {
      // Only returned synchronously, to an endpoint that forwards (#process); never reaches here otherwise.
      bytes = serializeEmpty(MessageType.RST, request.messageId);
    } else if (outcome.kind === 'reset') {
      bytes = serializeEmpty(MessageType.RST, request.messageId);
    } else {
      const message = {
        type: confirmable ? MessageType.ACK : MessageType.NON,
        messageId: confirmable ? request.messageId : this.nextMessageId(),
        token: request.token,
        ...outcome,
      };
      try {
        bytes = serialize(message);
      } catch (err) {
        this.#logger.error({ err }, 'CoAP response could not be encoded');
        bytes = serialize({
          ...message,
          code: Code.INTERNAL_SERVER_ERROR,
          options: [],
          payload: Buffer.alloc(0),
        });
      }
    }
    this.send(bytes, peer);
    return confirmable ? bytes : undefined;
  }
}
