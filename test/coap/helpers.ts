/** Shared test tools: a server on port 0, libcoap's coap-client, and a raw datagram client. */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { parse, serialize } from '../../src/transports/coap/codec.js';
import type { CoapMessage } from '../../src/transports/coap/message.js';
import {
  createCoapServer,
  type CoapServer,
  type CoapServerOptions,
} from '../../src/transports/coap/server.js';

export const COAP_CLIENT = '/usr/bin/coap-client-notls';

export const IMAGE: Buffer = randomBytes(1024 * 1024);
export const IMAGE_SHA256: Buffer = createHash('sha256').update(IMAGE).digest();

/** A server on 127.0.0.1, port 0 (style.md habit 4), already listening. */
export async function startServer(
  options: CoapServerOptions = {},
): Promise<{ server: CoapServer; port: number }> {
  const server = createCoapServer({ port: 0, host: '127.0.0.1', ...options });
  const { port } = await server.listen();
  return { server, port };
}

/**
 * Runs coap-client and returns stdout. It exits 0 even on 4.xx/5.xx (baselines.md §3d), so callers check
 * the output or the downloaded bytes; `-B` is a total time budget.
 */
export function coapClient(
  args: readonly string[],
  timeoutMs = 60_000,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(COAP_CLIENT, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err !== null && err.killed) reject(new Error(`coap-client timed out: ${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** Sends one datagram from a fresh socket and collects what comes back within `waitMs`. */
export async function rawExchange(
  port: number,
  datagrams: readonly Buffer[],
  waitMs = 300,
): Promise<Buffer[]> {
  const socket = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (data) => received.push(data));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  for (const d of datagrams) {
    await new Promise<void>((resolve, reject) =>
      socket.send(d, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
  }
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return received;
}

export function decode(data: Buffer): CoapMessage {
  const parsed = parse(data);
  if (!parsed.ok) throw new Error(`unparseable response: ${parsed.kind}`);
  return parsed.message;
}

export const encode = (m: CoapMessage): Buffer => serialize(m);

export function waitFor(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (predicate()) resolve();
      else if (Date.now() - start > timeoutMs) reject(new Error('condition not met in time'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

/** A raw peer that stays open: sends datagrams and waits for the next one that arrives. */
export class RawPeer {
  readonly #socket = dgram.createSocket('udp4');
  readonly #queue: Buffer[] = [];
  #waiter: ((data: Buffer) => void) | undefined;

  private constructor(readonly port: number) {
    this.#socket.on('message', (data) => {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (waiter !== undefined) waiter(data);
      else this.#queue.push(data);
    });
  }

  static async open(serverPort: number): Promise<RawPeer> {
    const peer = new RawPeer(serverPort);
    await new Promise<void>((resolve) => peer.#socket.bind(0, '127.0.0.1', () => resolve()));
    return peer;
  }

  send(data: Buffer): void {
    this.#socket.send(data, this.port, '127.0.0.1');
  }

  next(timeoutMs = 1000): Promise<CoapMessage> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(decode(queued));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new Error('no datagram in time'));
      }, timeoutMs);
      this.#waiter = (data) => {
        clearTimeout(timer);
        resolve(decode(data));
      };
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}
