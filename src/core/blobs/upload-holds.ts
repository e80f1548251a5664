import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { BlobDigests } from './blob-store.js';
import type { BlobGcRepository } from './blob-gc.js';

export type BlobHoldsPort = Pick<BlobGcRepository, 'hold' | 'isDeleting' | 'renew' | 'release'>;

export interface UploadHoldOptions {
  repository: BlobHoldsPort;
  clock: Clock;
  /** A hold lapses this long after its last renewal (the upload's process died), ms. */
  ttlMs: number;
  /** A deletion claimed longer ago than this is taken as abandoned (its collector died), ms. */
  staleDeletionMs?: number;
}

export interface UploadHolds {
  readonly uploadId: string;
  /** The store's `beforePublish`: holds the blob, and waits out a deletion of it that is under way. */
  beforePublish(digests: BlobDigests): Promise<void>;
  /** The upload is committed (its release now references the blobs) or discarded. */
  release(): Promise<void>;
}

/**
 * The holds of one upload in progress on the blobs it has stored, renewed while it runs (docs/storage.md). A
 * blob's hold is taken before the blob becomes visible, so the collector either sees the hold or is already
 * deleting: then the upload waits for the deletion to finish and publishes its own copy after it.
 */
export function createUploadHolds(options: UploadHoldOptions): UploadHolds {
  const { repository, clock, ttlMs } = options;
  const staleMs = options.staleDeletionMs ?? 60_000;
  const uploadId = randomUUID();
  const expiry = () => new Date(clock().getTime() + ttlMs).toISOString();
  let timer: NodeJS.Timeout | undefined;
  let released = false;

  function keepAlive(): void {
    if (timer || released) return;
    timer = setInterval(() => {
      repository.renew(uploadId, expiry()).catch(() => undefined);
    }, ttlMs / 3);
    timer.unref();
  }

  return {
    uploadId,
    async beforePublish(digests) {
      if (released) throw new Error('upload already finished');
      keepAlive();
      let { deleting } = await repository.hold(uploadId, digests.sha256, expiry());
      while (deleting) {
        await new Promise((r) => setTimeout(r, 50));
        const staleBefore = new Date(clock().getTime() - staleMs).toISOString();
        deleting = await repository.isDeleting(digests.sha256, staleBefore);
      }
    },
    async release() {
      released = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await repository.release(uploadId);
    },
  };
}
