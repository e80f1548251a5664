import { parentPort, workerData } from 'node:worker_threads';
import type { CheckInBatch, DeviceMove } from '../../core/devices/fold-check-ins.js';
import { openSqlite } from './connection.js';
import { createSqlDeviceRepository } from './device-repository.js';

/** What device-writer.ts sends: a batch to write, or the last message (close the connection and exit). */
export type WriterRequest = { id: number; batch: CheckInBatch } | { close: true };
export type WriterReply =
  { id: number; moves: DeviceMove[] } | { id: number; error: { message: string; code?: string } };

// Runs on the worker thread only (spawned by device-writer.ts); importing it elsewhere does nothing.
if (parentPort && (workerData as { file?: string } | null)?.file) {
  const port = parentPort;
  const db = await openSqlite((workerData as { file: string }).file);
  // The in-thread repository: on this thread its synchronous SQLite work blocks nobody.
  const devices = createSqlDeviceRepository(db, 'sqlite');
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
