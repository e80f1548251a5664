/**
 * A small CoAP client for the server's own outgoing requests, e.g. the RIOT notify flow (device-protocols.md
 * §4.1, seeds.md §1.4): GET coap://<device>/suit/slot/inactive, then CON POST /suit/trigger with the manifest
 * URL. CONs are retransmitted per RFC 7252 §4.2; piggybacked (§5.2.1) and separate (§5.2.2) responses are
 * both accepted. Responses are single messages: no Block2 reassembly (device answers are a few bytes).
 */
import { randomBytes, randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP, isIPv6 } from 'node:net';
import { parse, serialize, serializeEmpty } from './codec.js';
import {
  Code,
  formatCode,
  isResponseCode,
  isSuccessCode,
  MessageType,
  methodCode,
  peerKey,
  type CoapMessage,
  type CoapOption,
  type Method,
  type Peer,
} from './message.js';
import { Opt, sortOptions, stringOptions, uintOption } from './options.js';
import { DEFAULT_TRANSMISSION, Transmitter, type TransmissionParameters } from './transmission.js';

export interface CoapClientOptions {
  /** RFC 7252 §4.8 parameters; tests shorten ackTimeoutMs. */
  readonly transmission?: Partial<TransmissionParameters>;
  /** How long to wait for a separate response after an empty ACK, or for any answer to a NON. Default 30 s. */
  readonly responseTimeoutMs?: number;
}

export interface CoapClientRequest {
  /** `coap://host[:port]/path?query`; IPv6 hosts in brackets. */
  readonly url: string;
  readonly method?: Method;
  readonly payload?: Buffer | string;
  readonly contentFormat?: number;
  readonly accept?: number;
  /** Default true (CON). */
  readonly confirmable?: boolean;
  readonly options?: readonly CoapOption[];
  /** Abandons the exchange: no further retransmission, the result is `timeout` (a caller's deadline passed). */
  readonly signal?: AbortSignal;
}

export type CoapClientResult =
  | {
      readonly status: 'response';
      readonly code: number;
      /** "2.04" style. */
      readonly codeText: string;
      readonly success: boolean;
      readonly payload: Buffer;
      readonly options: readonly CoapOption[];
    }
  | { readonly status: 'reset' }
  | { readonly status: 'timeout' }
  /** An ICMP error (port or host unreachable) for the peer: retransmitting cannot help. */
  | { readonly status: 'unreachable'; readonly message: string };

export interface CoapClient {
  request(request: CoapClientRequest): Promise<CoapClientResult>;
  close(): Promise<void>;
}

interface Exchange {
  readonly peer: Peer;
  readonly messageId: number;
  readonly finish: (result: CoapClientResult) => void;
}

/** The textual form dgram reports for an address, so responses match the peer we sent to. */
function canonicalAddress(address: string): string {
  return isIPv6(address) ? new URL(`coap://[${address}]`).hostname.slice(1, -1) : address;
}

function responseOf(message: CoapMessage): CoapClientResult {
  return {
    status: 'response',
    code: message.code,
    codeText: formatCode(message.code),
    success: isSuccessCode(message.code),
    payload: Buffer.from(message.payload),
    options: message.options.map((o) => ({ number: o.number, value: Buffer.from(o.value) })),
  };
}

async function resolveTarget(url: URL): Promise<Peer> {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const address = isIP(host) !== 0 ? host : (await lookup(host)).address;
  return { address: canonicalAddress(address), port: url.port === '' ? 5683 : Number(url.port) };
}

function requestOptions(url: URL, request: CoapClientRequest): CoapOption[] {
  // RFC 7252 §6.4: each path segment and query argument is one option, percent-decoded.
  const segments = url.pathname
    .split('/')
    .filter((s) => s.length > 0)
    .map(decodeURIComponent);
  const query = url.search.length > 1 ? url.search.slice(1).split('&').map(decodeURIComponent) : [];
  const options = [
    ...stringOptions(Opt.URI_PATH, segments),
    ...stringOptions(Opt.URI_QUERY, query),
    ...(request.options ?? []),
  ];
  if (request.contentFormat !== undefined)
    options.push(uintOption(Opt.CONTENT_FORMAT, request.contentFormat));
  if (request.accept !== undefined) options.push(uintOption(Opt.ACCEPT, request.accept));
  return sortOptions(options);
}

export function createCoapClient(options: CoapClientOptions = {}): CoapClient {
  const params = { ...DEFAULT_TRANSMISSION, ...options.transmission };
  const responseTimeoutMs = options.responseTimeoutMs ?? 30_000;
  /**
   * One *connected* UDP socket per peer while it has exchanges: the kernel reports an ICMP port- or
   * host-unreachable for the peer only on a connected socket (as ECONNREFUSED / EHOSTUNREACH on the next
   * receive), so a device that is not listening fails in milliseconds instead of after every retransmission
   * (RFC 7252 §4.2 leaves the reaction to ICMP errors to the implementation; RFC 1122 §4.1.3.3).
   */
  const sockets = new Map<string, Promise<dgram.Socket>>();
  const exchanges = new Map<string, Exchange>();
  const transmitter = new Transmitter((bytes, peer) => void send(bytes, peer), params);
  let messageId = randomInt(0x10000);
  let closed = false;

  const socketFor = (peer: Peer): Promise<dgram.Socket> => {
    const key = peerKey(peer);
    let socket = sockets.get(key);
    if (socket === undefined) {
      socket = new Promise((resolve, reject) => {
        const s = dgram.createSocket(isIPv6(peer.address) ? 'udp6' : 'udp4');
        s.once('error', reject);
        s.on('message', (data, rinfo) => onDatagram(data, { address: rinfo.address, port: rinfo.port }));
        s.connect(peer.port, peer.address, () => {
          s.off('error', reject);
          s.on('error', (err: NodeJS.ErrnoException) => unreachable(peer, err));
          resolve(s);
        });
      });
      socket.catch(() => sockets.delete(key));
      sockets.set(key, socket);
    }
    return socket;
  };

  function dropSocket(peer: Peer): void {
    const key = peerKey(peer);
    const socket = sockets.get(key);
    sockets.delete(key);
    void socket?.then(
      (s) => s.close(),
      () => undefined,
    );
  }

  /** The peer answered with an ICMP error: every exchange with it ends now. */
  function unreachable(peer: Peer, err: NodeJS.ErrnoException): void {
    const key = peerKey(peer);
    for (const exchange of [...exchanges.values()]) {
      if (peerKey(exchange.peer) !== key) continue;
      transmitter.cancel(exchange.messageId, peer);
      exchange.finish({ status: 'unreachable', message: `${err.code ?? 'error'}: ${err.message}` });
    }
    dropSocket(peer);
  }

  /** Closes the peer's socket once no exchange with it is left. */
  function release(peer: Peer): void {
    const key = peerKey(peer);
    if (![...exchanges.values()].some((e) => peerKey(e.peer) === key)) dropSocket(peer);
  }

  async function send(bytes: Buffer, peer: Peer): Promise<void> {
    if (closed) return;
    try {
      const socket = await socketFor(peer);
      socket.send(bytes, () => {});
    } catch (err) {
      unreachable(peer, err as NodeJS.ErrnoException);
    }
  }

  function onDatagram(data: Buffer, peer: Peer): void {
    const parsed = parse(data);
    if (!parsed.ok) return;
    const message = parsed.message;
    if (message.type === MessageType.ACK || message.type === MessageType.RST) {
      transmitter.handle(message, peer);
      return;
    }
    if (!isResponseCode(message.code)) {
      // We serve nothing on this socket: reject CON requests and pings (RFC 7252 §4.2, §4.3).
      if (message.type === MessageType.CON)
        void send(serializeEmpty(MessageType.RST, message.messageId), peer);
      return;
    }
    const key = message.token.toString('hex');
    const exchange = exchanges.get(key);
    if (exchange === undefined || peerKey(exchange.peer) !== peerKey(peer)) {
      // §5.3.2: an unexpected CON response is rejected; unexpected NON responses are ignored.
      if (message.type === MessageType.CON)
        void send(serializeEmpty(MessageType.RST, message.messageId), peer);
      return;
    }
    // §5.2.2: a separate CON response is acknowledged; it may overtake the lost empty ACK.
    if (message.type === MessageType.CON) void send(serializeEmpty(MessageType.ACK, message.messageId), peer);
    transmitter.cancel(exchange.messageId, peer);
    exchange.finish(responseOf(message));
  }

  return {
    async request(request) {
      if (closed) throw new Error('CoAP client is closed');
      const url = new URL(request.url);
      if (url.protocol !== 'coap:') throw new Error(`not a coap:// URL: ${request.url}`);
      const peer = await resolveTarget(url);
      const token = randomBytes(4);
      const key = token.toString('hex');
      messageId = (messageId + 1) & 0xffff;
      const id = messageId;
      const confirmable = request.confirmable ?? true;
      const payload = request.payload ?? Buffer.alloc(0);
      const bytes = serialize({
        type: confirmable ? MessageType.CON : MessageType.NON,
        code: methodCode(request.method ?? 'GET'),
        messageId: id,
        token,
        options: requestOptions(url, request),
        payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload,
      });
      let timer: NodeJS.Timeout | undefined;
      const result = new Promise<CoapClientResult>((resolve) => {
        exchanges.set(key, {
          peer,
          messageId: id,
          finish: (r) => {
            clearTimeout(timer);
            exchanges.delete(key);
            release(peer);
            resolve(r);
          },
        });
      });
      const finish = (r: CoapClientResult): void => exchanges.get(key)?.finish(r);
      if (request.signal) {
        const signal = request.signal;
        const abandon = (): void => {
          transmitter.cancel(id, peer);
          finish({ status: 'timeout' });
        };
        if (signal.aborted) abandon();
        signal.addEventListener('abort', abandon, { once: true });
        void result.then(() => signal.removeEventListener('abort', abandon));
      }
      const waitForResponse = (): void => {
        timer = setTimeout(() => finish({ status: 'timeout' }), responseTimeoutMs);
      };
      if (!confirmable) {
        waitForResponse();
        await send(bytes, peer);
        return result;
      }
      if (request.signal?.aborted) return result;
      const sent = await transmitter.send(bytes, id, peer);
      if (request.signal?.aborted) return result;
      if (sent.kind === 'ack') {
        if (sent.message.code === Code.EMPTY) waitForResponse();
        // §5.3.2: a piggybacked response must echo our token.
        else if (sent.message.token.equals(token)) finish(responseOf(sent.message));
        else waitForResponse();
      } else if (sent.kind === 'reset') {
        finish({ status: 'reset' });
      } else if (sent.kind === 'timeout') {
        finish({ status: 'timeout' });
      }
      // 'cancelled': finished already (an ICMP error, or close).
      return result;
    },

    async close() {
      closed = true;
      transmitter.close();
      for (const exchange of [...exchanges.values()]) exchange.finish({ status: 'timeout' });
      const open = await Promise.allSettled(sockets.values());
      await Promise.all(
        open.map((s) =>
          s.status === 'fulfilled'
            ? new Promise<void>((resolve) => s.value.close(() => resolve()))
            : undefined,
        ),
      );
      sockets.clear();
    },
  };
}
