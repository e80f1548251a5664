import { read } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { RecyclingReadable } from '../../core/blobs/blob-store.js';

/**
 * What a stalled download holds (its last chunk, queued in the socket). 4 KiB against 16 KiB: 1,000 stalled
 * 64 MiB downloads peaked at about 230 MB instead of 280-330 (docs/security.md, defect 7); a fast consumer leaves
 * it after a few pulls, so only bursts of a slow one pay the extra thread-pool round trips.
 */
export const MIN_CHUNK = 4 * 1024;
export const MAX_CHUNK = 1024 * 1024;
/** A consumer that asks for the next chunk this soon after the last one is keeping up: read more at once. */
const FAST_MS = 5;
/**
 * Bytes above MIN_CHUNK that all streams of the process may hold in their last chunk. A consumer looks fast
 * while the kernel's socket buffers absorb the first megabytes, then stalls holding a large chunk: this budget
 * bounds the sum of those, however many connections stall (a stream's share returns when it reads again).
 * 4 MiB still gives four fast downloads 1 MiB chunks at once (0.6-1.1 ms CPU per MiB here, as with 16 MiB);
 * a larger budget mostly fed slow clients' bursts, whose large chunks then became garbage faster than V8
 * collects it (up to 64 MB of unreferenced buffers before external memory forces a collection).
 */
export const LARGE_BUDGET = 4 * 1024 * 1024;
let largeHeld = 0;
/**
 * MIN_CHUNK buffers a stream keeps for reuse once its consumer hands them back: a stalled socket queues 16 KiB
 * (four of them) while the next is read. Large chunks are not kept: they are few, and keeping them would hold
 * their memory outside LARGE_BUDGET.
 */
const SPARES = 5;

/**
 * A ranged file read whose chunk size follows its consumer (issue 13, defect 7). Reading 1 MiB at a time is
 * what makes a fast download fast (about 700 MiB/s here against 60 at 64 KiB: fewer thread-pool round trips),
 * but a slow or stalled device then pins 2 MiB (a chunk buffered here, one in the socket): 1,000 of them took
 * 2.3 GB. So nothing is read ahead (highWaterMark 0: a read happens only when the consumer pulls), chunks start
 * at 4 KiB and double while the consumer pulls again at once, up to 1 MiB, and fall back to 4 KiB as soon as
 * it does not. A stalled connection holds one chunk, usually the smallest; the handle closes on end or abort.
 */
export function adaptiveReadStream(handle: FileHandle, start: number, end: number): RecyclingReadable {
  let position = start;
  let chunk = MIN_CHUNK;
  let lastPush = 0;
  let held = 0;
  const spares: Buffer[] = [];
  const release = () => {
    largeHeld -= held;
    held = 0;
  };
  const stream = new Readable({
    highWaterMark: 0,
    read() {
      const remaining = end - position + 1;
      if (remaining <= 0) {
        this.push(null);
        return;
      }
      // Asked again: the last chunk has gone on to the socket, its share of the budget is free.
      release();
      const now = performance.now();
      chunk = now - lastPush < FAST_MS ? Math.min(chunk * 2, MAX_CHUNK) : MIN_CHUNK;
      if (chunk > MIN_CHUNK && largeHeld + chunk - MIN_CHUNK > LARGE_BUDGET) chunk = MIN_CHUNK;
      const length = Math.min(chunk, remaining);
      held = Math.max(0, length - MIN_CHUNK);
      largeHeld += held;
      const buffer = (length === MIN_CHUNK && spares.pop()) || Buffer.allocUnsafe(length);
      // fs.read on the descriptor: no promise and result object per chunk (FileHandle.read), less garbage.
      read(handle.fd, buffer, 0, length, position, (err, bytesRead) => {
        if (err) {
          this.destroy(err);
          return;
        }
        if (bytesRead === 0) {
          this.push(null);
          return;
        }
        position += bytesRead;
        lastPush = performance.now();
        this.push(bytesRead === length ? buffer : buffer.subarray(0, bytesRead));
      });
    },
    destroy(err, callback) {
      release();
      spares.length = 0;
      handle.close().then(
        () => callback(err),
        () => callback(err),
      );
    },
  });
  return Object.assign(stream, {
    recycle(chunk: Buffer) {
      // Only whole buffers this stream allocated (a short last read pushes a view of one).
      const own =
        chunk.byteOffset === 0 && chunk.buffer.byteLength === MIN_CHUNK && chunk.length === MIN_CHUNK;
      if (own && spares.length < SPARES && !stream.destroyed) spares.push(chunk);
    },
  });
}
