import { Worker } from 'node:worker_threads';
import type { CheckInBatch, DeviceMove } from '../../core/devices/fold-check-ins.js';
import type { CheckInWriter } from './device-repository.js';
import type { WriterReply, WriterRequest } from './device-writer-worker.js';

/** From this many devices the worker starts with the server (`startForFleet`, see below). */
export const LARGE_FLEET = 100_000;

export interface SqliteCheckInWriter extends CheckInWriter {
  /** Boots the worker and resolves once its connection is open (rejects when it cannot open the file). */
  start(): Promise<void>;
  /** Starts the worker when `devices` is a large fleet; resolves whether it did. */
  startForFleet(devices: number): Promise<boolean>;
  /** Whether batches now go to the worker. */
  readonly offloaded: boolean;
  close(): Promise<void>;
}

/**
 * The SQLite write-behind flush on a worker thread (issue 16), once the flush is worth it. better-sqlite3 is
 * synchronous: at 1,000,000 rows the flush's reads and upserts took the event loop for long enough to dominate
 * every request's p99. The worker opens its own connection to the same file (WAL: the main connection's readers
 * see each commit, and its own writes wait on busy_timeout for the worker's short transactions). Batches go over
 * in order and each resolves once committed, so the crash window stays that of ADR 0001: what is pending in
 * memory, here or in the worker.
 *
 * A worker costs about 30 MB of RSS (its own V8 heap, Node environment and a second load of kysely and
 * better-sqlite3), which a small fleet's flush of a few milliseconds does not need and which the 1,000-download
 * memory goal cannot spare (issue 13, defect 7). So batches are written here, with the same repository code,
 * until one takes `offloadAfterMs` or longer; that starts the worker, and once it is ready every later batch
 * goes to it. While it boots (100-150 ms on an idle machine here, over 500 ms on a loaded one) batches are still
 * written here, so no batch ever waits for a worker to start: started on first use, it let the first check-ins
 * after a start stay in memory past the flush interval, which CI's kill -9 test caught. The worker is
 * unreferenced while idle, so it never keeps a process alive on its own; `close()` waits for every batch
 * handed over. A registry of `LARGE_FLEET` devices or more starts the worker before `serve` opens a port
 * (`startForFleet`): its first flush after a restart, when the whole fleet checks in again, is its largest, and
 * written here it would hold the event loop for hundreds of milliseconds. The registry hands over one batch at
 * a time (its flush chain), so a batch written here and the next one written by the worker never overlap.
 */
export function createSqliteCheckInWriter(
  file: string,
  { onStart, offloadAfterMs = 20 }: { onStart?: () => void; offloadAfterMs?: number } = {},
): SqliteCheckInWriter {
  let worker: Worker | undefined;
  let ready: Promise<void> | undefined;
  let workerReady = false;
  let nextId = 1;
  const waiting = new Map<number, { resolve(moves: DeviceMove[]): void; reject(err: Error): void }>();
  let closing: Promise<void> | undefined;

  function start(): Worker {
    const w = spawnWorker(file);
    ready = new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', (err) => reject(asError(err)));
      w.once('exit', (code) => reject(new Error(`the SQLite check-in writer stopped (exit code ${code})`)));
    });
    // A worker that cannot open the file leaves the writes here; the next slow batch tries again.
    ready.then(
      () => {
        if (worker !== w) return;
        workerReady = true;
        onStart?.();
      },
      () => undefined,
    );
    w.on('message', (reply: WriterReply) => {
      if ('ready' in reply) {
        if (waiting.size === 0 && !closing) w.unref();
        return;
      }
      const call = waiting.get(reply.id);
      if (!call) return;
      waiting.delete(reply.id);
      if (waiting.size === 0 && !closing) w.unref();
      if ('moves' in reply) call.resolve(reply.moves);
      else call.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
    });
    // A worker that dies takes its batches with it: they fail, the registry keeps them and retries, here.
    const fail = (err: Error) => {
      if (worker === w) {
        worker = undefined;
        workerReady = false;
      }
      for (const call of waiting.values()) call.reject(err);
      waiting.clear();
    };
    w.on('error', (err) => fail(asError(err)));
    w.on('exit', (code) => fail(new Error(`the SQLite check-in writer stopped (exit code ${code})`)));
    return w;
  }

  function toWorker(w: Worker, batch: CheckInBatch): Promise<DeviceMove[]> {
    const id = nextId++;
    return new Promise<DeviceMove[]>((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      w.ref();
      w.postMessage({ id, batch } satisfies WriterRequest);
    });
  }

  function boot(): Promise<void> {
    if (closing) return Promise.reject(new Error('the SQLite check-in writer is closed'));
    worker ??= start();
    return ready ?? Promise.resolve();
  }

  return {
    start: boot,

    async startForFleet(devices) {
      if (devices < LARGE_FLEET) return false;
      await boot();
      return true;
    },

    get offloaded() {
      return workerReady;
    },

    async writeCheckIns(batch, writeHere): Promise<DeviceMove[]> {
      if (closing) throw new Error('the SQLite check-in writer is closed');
      if (worker && workerReady) return toWorker(worker, batch);
      const started = performance.now();
      const moves = await writeHere(batch);
      if (!worker && performance.now() - started >= offloadAfterMs) worker = start();
      return moves;
    },

    close(): Promise<void> {
      closing ??= (async () => {
        const w = worker;
        if (!w) return;
        w.ref();
        const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
        // The worker handles messages in order: it writes what it was handed, closes its connection, then exits.
        w.postMessage({ close: true } satisfies WriterRequest);
        await exited;
      })();
      return closing;
    },
  };
}

/**
 * What a worker throws arrives structured-cloned: better-sqlite3's SqliteError comes over as a plain object with
 * its `code` and without its message, which is then all there is to report.
 */
function asError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  const { message, code } = (thrown ?? {}) as { message?: string; code?: string };
  return Object.assign(new Error(`the SQLite check-in writer failed: ${message ?? code ?? String(thrown)}`), {
    ...(code ? { code } : {}),
  });
}

/**
 * The worker runs the module next to this one: `.js` in dist/, `.ts` from the sources. Node 20 does not pass
 * tsx's loader on to worker threads, so from the sources the worker registers it first (tsx/esm/api).
 */
function spawnWorker(file: string): Worker {
  const ext = /\.[cm]?[jt]s$/.exec(new URL(import.meta.url).pathname)?.[0] ?? '.js';
  const entry = new URL(`./device-writer-worker${ext}`, import.meta.url);
  if (!ext.endsWith('ts')) return new Worker(entry, { workerData: { file } });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData: { file } });
}
