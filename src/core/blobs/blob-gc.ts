import type { BlobStore } from './blob-store.js';

/**
 * The database's side of blob garbage collection (storage/sql/blob-gc-repository.ts). Times are ISO-8601 text.
 * A hold and a deletion of the same blob are ordered by one row lock, so either the collector sees the hold and
 * keeps the blob, or the upload sees the deletion and publishes its copy after it.
 */
export interface BlobGcRepository {
  /** Registers an upload's hold on a blob; `deleting` when a collector is deleting that blob right now. */
  hold(uploadId: string, sha256: string, expiresAt: string): Promise<{ deleting: boolean }>;
  /** Whether a collector claimed the blob for deletion after `staleBefore` and has not finished. */
  isDeleting(sha256: string, staleBefore: string): Promise<boolean>;
  renew(uploadId: string, expiresAt: string): Promise<void>;
  release(uploadId: string): Promise<void>;
  /** Drops holds that lapsed (their upload's process died). */
  dropExpiredHolds(now: string): Promise<number>;
  /** Every blob a release (any state) references or a live hold names. */
  inUse(now: string): Promise<Set<string>>;
  /** Records `now` as the orphan time of each blob that has none; returns every blob's orphan time. */
  noteOrphans(sha256s: string[], now: string): Promise<Map<string, string>>;
  /** Forgets the orphan times of blobs that are in use again. */
  forgetInUse(now: string): Promise<void>;
  /**
   * In one transaction, after taking the blob's lock: true (and the blob marked as being deleted) when no release
   * references it, no live hold names it and it has been an orphan since `orphanBefore` or earlier.
   */
  claimForDeletion(sha256: string, now: string, orphanBefore: string): Promise<boolean>;
  /** The deletion is done (or failed: then the claim is withdrawn and the blob stays an orphan). */
  finishDeletion(sha256: string, deleted: boolean): Promise<void>;
}

export interface BlobGcOptions {
  blobs: BlobStore;
  repository: BlobGcRepository;
  /** How long a blob stays an orphan before it is deleted, ms. */
  graceMs: number;
  /** Temporary uploads older than this are swept (a replica may still be streaming a younger one), ms. */
  incompleteAfterMs: number;
  onError?: (err: unknown, sha256: string) => void;
}

export interface BlobGcReport {
  /** Temporary files / objects and abandoned multipart uploads removed. */
  swept: number;
  /** Blobs unreferenced for the first time (their grace period starts now). */
  orphaned: number;
  deleted: number;
  /** Orphans still within their grace period. */
  waiting: number;
}

/**
 * One pass of blob garbage collection: a blob that a release (draft, published or revoked) references or that an
 * upload in progress holds is never deleted; any other blob is deleted once it has been seen unreferenced for the
 * grace period. Run on one process at a time (the leader, with several replicas); running it on two is safe, only
 * wasteful.
 */
export async function runBlobGc(options: BlobGcOptions, now: Date): Promise<BlobGcReport> {
  const { blobs, repository } = options;
  const at = now.toISOString();
  const swept = await blobs.sweepIncomplete(options.incompleteAfterMs);
  await repository.dropExpiredHolds(at);
  await repository.forgetInUse(at);
  const inUse = await repository.inUse(at);
  const orphans = (await blobs.list()).filter((sha256) => !inUse.has(sha256));
  const since = await repository.noteOrphans(orphans, at);
  const cutoff = new Date(now.getTime() - options.graceMs).toISOString();
  const report: BlobGcReport = { swept, orphaned: 0, deleted: 0, waiting: 0 };
  for (const sha256 of orphans) {
    const orphanSince = since.get(sha256);
    if (orphanSince === at) report.orphaned++;
    if (!orphanSince || orphanSince > cutoff) {
      if (orphanSince !== at) report.waiting++;
      continue;
    }
    if (!(await repository.claimForDeletion(sha256, at, cutoff))) continue;
    let deleted = false;
    try {
      await blobs.delete(sha256);
      deleted = true;
      report.deleted++;
    } catch (err) {
      options.onError?.(err, sha256);
    } finally {
      await repository.finishDeletion(sha256, deleted);
    }
  }
  return report;
}
