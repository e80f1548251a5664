import { parentPort, workerData } from 'node:worker_threads';
import type { CheckInBatch, DeviceMove } from '../../core/devices/fold-check-ins.js';
import { openSqlite } from './connection.js';
import { createSqlDeviceRepository } from './device-repository.js';

/** What device-writer.ts sends: a batch to write, or the last message (close the connection and exit). */
export type WriterRequest = { id: number; batch: CheckInBatch } | { close: true };
export type WriterReply =
  | { ready: true }
  | { id: number; moves: DeviceMove[] }
  | { id: number; error: { message: string; code?: string } };

/**
 * The writer connection's settings (also bench/writer/check-ins.mjs's, which measures this thread's work).
 *
 * It checkpoints the WAL for both connections (the main one stops once this starts), in larger steps than
 * SQLite's 1,000 pages: a chunk at 1,000,000 rows dirties a page or more per row, scattered, and a checkpoint per
 * chunk meant a sync per chunk. The file is cut back to 64 MiB after each.
 *
 * Statement journals stay in memory: each multi-row upsert may fail half-way (a constraint), so SQLite keeps a copy
 * of every page it changes in a statement journal, a temporary file by default; at 1,000,000 rows that was 40 % of
 * this thread's write syscalls and a third of its bytes written (bench/writer/check-ins.mjs with DEVICES=1000000:
 * 59.8 against 38.3 KiB per check-in). Durability does not depend on it (https://sqlite.org/tempfiles.html, 2.5),
 * and only this thread's few statement shapes use it: big queries' temporary B-trees stay on disk elsewhere.
 */
export function tuneWriterConnection(sqlite: import('better-sqlite3').Database): void {
  sqlite.pragma('wal_autocheckpoint = 8000');
  sqlite.pragma('journal_size_limit = 67108864');
  sqlite.pragma('temp_store = MEMORY');
}

// Runs on the worker thread only (spawned by device-writer.ts); importing it elsewhere does nothing.
if (parentPort && (workerData as { file?: string } | null)?.file) {
  const port = parentPort;
  const db = await openSqlite((workerData as { file: string }).file, { onOpen: tuneWriterConnection });
  // The in-thread repository: on this thread its synchronous SQLite work blocks nobody.
  const devices = createSqlDeviceRepository(db, 'sqlite');
  port.postMessage({ ready: true } satisfies WriterReply);
  let chain: Promise<void> = Promise.resolve();
  port.on('message', (request: WriterRequest) => {
    chain = chain.then(async () => {
      if ('close' in request) {
        await db.destroy();
        port.close();
        return;
      }
      try {
        const moves = await devices.writeCheckIns(request.batch);
        port.postMessage({ id: request.id, moves } satisfies WriterReply);
      } catch (err) {
        const { message, code } = err as { message?: string; code?: string };
        port.postMessage({
          id: request.id,
          error: { message: message ?? String(err), ...(code ? { code } : {}) },
        } satisfies WriterReply);
      }
    });
  });
}
