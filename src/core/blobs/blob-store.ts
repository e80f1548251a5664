import type { Readable } from 'node:stream';

export interface BlobDigests {
  sha256: string;
  md5: string;
  size: number;
}

export interface PutOptions {
  /** Reject (UPLOAD_TOO_LARGE) as soon as more bytes than this arrive; nothing is kept. */
  maxBytes?: number;
  /** Lowercase hex; on mismatch the blob is discarded and DIGEST_MISMATCH thrown. */
  expectedSha256?: string;
  expectedMd5?: string;
  signal?: AbortSignal;
}

/** Inclusive byte range, as HTTP `Range` spells it. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Content-addressed blob storage (filesystem now, S3-compatible later). A blob is visible only once complete:
 * implementations write to a temporary name and publish atomically, so a crash never leaves a partial blob.
 */
export interface BlobStore {
  put(source: AsyncIterable<Uint8Array> | Readable, options?: PutOptions): Promise<BlobDigests>;
  /** Streams the blob (or a range of it) without loading it whole. BLOB_NOT_FOUND if absent. */
  createReadStream(sha256: string, range?: ByteRange): Promise<Readable>;
  /** Reads up to `length` bytes at `offset` (CoAP blocks, small reads). */
  read(sha256: string, offset: number, length: number): Promise<Buffer>;
  stat(sha256: string): Promise<{ size: number } | undefined>;
  delete(sha256: string): Promise<void>;
  /** Whether the store can take writes and serve reads (readiness probe). */
  check(): Promise<void>;
  /** Every stored blob's key (start-up sweep of blobs no release references). */
  list(): Promise<string[]>;
  /**
   * Removes what a crash mid-write left behind; returns how many. Run at start-up. With `olderThan`, only what
   * was started before then (other replicas may be writing into the same store).
   */
  sweepIncomplete(options?: { olderThan?: Date }): Promise<number>;
  /** For X-Accel-Redirect style offload: the blob's path relative to the store root, when it has one. */
  relativePath?(sha256: string): string;
}
