import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { BusMessage } from '../core/events/event-bus.js';
import { SYSTEM } from '../core/audit/context.js';
import { createServices, openStorage } from './services.js';
import { lockSqliteDatabase } from './sqlite-lock.js';
import { freeUdpPort, reusePortSupported } from '../transports/coap/reuse-port.js';

/** What the primary tells a worker before it starts: its slot, 1..N, stable across restarts. */
interface StartMessage {
  type: 'updraft:start';
  slot: number;
  /** With `--coap-port 0` and SO_REUSEPORT: the port the primary chose, for every worker to bind. */
  coapPort?: number;
}

/** A CoAP datagram a worker received on the shared socket that the home worker (slot 1) must answer. */
interface CoapEnvelope {
  type: 'updraft:coap';
  /** base64: the IPC channel is JSON. */
  data: string;
  address: string;
  port: number;
}

/** The home of CoAP per-peer state with a cluster-shared socket (docs/coap.md, "On every core"). */
export const COAP_HOME_SLOT = 1;

/** A cache invalidation or release event from one worker, relayed by the primary to the others (SQLite). */
interface BusEnvelope {
  type: 'updraft:bus';
  message: BusMessage;
}

const RESTART_DELAY_MS = 1000;

/**
 * In a cluster worker on SQLite: the link to the sibling workers' buses, through the primary (on PostgreSQL the
 * database carries them). Undefined outside a cluster.
 */
export function clusterRelay():
  { send(message: BusMessage): void; onMessage(receive: (message: BusMessage) => void): void } | undefined {
  if (!cluster.isWorker) return undefined;
  return {
    send: (message) => process.send?.({ type: 'updraft:bus', message } satisfies BusEnvelope),
    onMessage(receive) {
      process.on('message', (m: Partial<BusEnvelope>) => {
        if (m.type === 'updraft:bus' && m.message) receive(m.message);
      });
    },
  };
}

/**
 * In a cluster worker: the link that carries CoAP datagrams to the home worker (through the primary). Undefined
 * outside a cluster.
 */
export function clusterCoapLink():
  | {
      forward(data: Buffer, peer: { address: string; port: number }): void;
      onForwarded(receive: (data: Buffer, peer: { address: string; port: number }) => void): void;
    }
  | undefined {
  if (!cluster.isWorker) return undefined;
  return {
    forward: (data, { address, port }) =>
      process.send?.({
        type: 'updraft:coap',
        data: data.toString('base64'),
        address,
        port,
      } satisfies CoapEnvelope),
    onForwarded(receive) {
      process.on('message', (m: Partial<CoapEnvelope>) => {
        if (m.type !== 'updraft:coap' || typeof m.data !== 'string') return;
        receive(Buffer.from(m.data, 'base64'), { address: m.address ?? '', port: m.port ?? 0 });
      });
    },
  };
}

/**
 * `serve --workers N`: one primary and N workers sharing the HTTP port through `node:cluster` (the primary accepts
 * and hands connections round-robin). Work that must happen once runs in the primary before any fork: migrations,
 * the crash sweep of blobs and partial uploads, the first-start admin token. Worker slot 1 alone runs the drop
 * folder watcher. Every worker runs the CoAP endpoint: with SO_REUSEPORT (Node ≥ 22.12) on its own socket, else on
 * the primary's shared one, forwarding datagrams that need per-peer state to slot 1 (docs/coap.md). SQLite is shared (WAL, busy_timeout); each worker buffers its own check-ins.
 * SIGTERM/SIGINT to the primary is passed to every worker, which drains its downloads; the primary exits last.
 */
export async function runPrimary(config: Config, logger: Logger): Promise<void> {
  // The workers share the file by design; a second `serve` on it is refused (app/sqlite-lock.ts).
  const unlock = lockSqliteDatabase(config.databaseUrl);
  process.once('exit', unlock);
  const storage = await openStorage(config, logger);
  try {
    const token = await createServices(config, storage, logger).tokens.bootstrapAdmin(SYSTEM);
    if (token) {
      process.stderr.write(
        `\nUpdraft generated an admin token. It is shown only this once; store it now:\n\n    ${token}\n\n` +
          `Use it as "Authorization: Bearer <token>" or UPDRAFT_TOKEN for the CLI.\n\n`,
      );
    }
  } finally {
    await storage.events.close();
    await storage.connection.close();
  }

  const workers = new Map<number, Worker>();
  let stopping = false;
  // SO_REUSEPORT sockets are each bound by their worker: for "any free port" they must agree on one.
  const coapPort =
    config.coapPort === 0 && (await reusePortSupported()) ? await freeUdpPort(config.host) : undefined;

  function fork(slot: number): Worker {
    const worker = cluster.fork();
    workers.set(slot, worker);
    // The worker asks once it listens for the answer (a message sent before that would be lost).
    worker.on('message', (m: { type?: string }) => {
      if (m.type === 'updraft:hello') {
        worker.send({
          type: 'updraft:start',
          slot,
          ...(coapPort !== undefined ? { coapPort } : {}),
        } satisfies StartMessage);
      }
      // A CoAP datagram for the home worker; dropped while it restarts (the client retransmits).
      if (m.type === 'updraft:coap') {
        const home = workers.get(COAP_HOME_SLOT);
        if (home !== undefined && home !== worker && home.isConnected()) home.send(m);
      }
      // Invalidations and release events reach every other worker within the same second.
      if (m.type === 'updraft:bus') {
        for (const other of workers.values()) if (other !== worker && other.isConnected()) other.send(m);
      }
    });
    worker.once('exit', (code, signal) => {
      if (workers.get(slot) === worker) workers.delete(slot);
      if (stopping) return;
      logger.error({ slot, pid: worker.process.pid, code, signal }, 'worker exited; restarting it');
      setTimeout(() => {
        if (!stopping) fork(slot);
      }, RESTART_DELAY_MS).unref();
    });
    return worker;
  }

  const first = Array.from({ length: config.workers }, (_, i) => fork(i + 1));
  await Promise.all(first.map((w) => once(w, 'listening')));
  logger.info({ workers: config.workers, pids: first.map((w) => w.process.pid) }, 'workers listening');

  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      if (signal === 'SIGINT') process.exit(130);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'signal received; stopping workers');
    const exits = [...workers.values()].map((w) => (w.isDead() ? Promise.resolve() : once(w, 'exit')));
    for (const w of workers.values()) w.process.kill('SIGTERM');
    // Each worker bounds its own drain by shutdownTimeoutMs; this only guards against one that hangs.
    const guard = setTimeout(() => {
      logger.error('workers did not stop in time; killing them');
      for (const w of workers.values()) w.process.kill('SIGKILL');
    }, config.shutdownTimeoutMs + 5000);
    void Promise.all(exits).then(() => {
      clearTimeout(guard);
      logger.info('stopped');
      process.exit(0);
    });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

/** In a worker: waits for the primary's start message and returns the slot (1..N) and the CoAP port it chose. */
export function workerSlot(): Promise<{ slot: number; coapPort?: number }> {
  return new Promise((resolve) => {
    const onMessage = (message: Partial<StartMessage>) => {
      if (message.type !== 'updraft:start' || typeof message.slot !== 'number') return;
      process.off('message', onMessage);
      resolve({
        slot: message.slot,
        ...(typeof message.coapPort === 'number' ? { coapPort: message.coapPort } : {}),
      });
    };
    process.on('message', onMessage);
    process.send?.({ type: 'updraft:hello' });
  });
}

export const isClusterWorker = (): boolean => cluster.isWorker;
