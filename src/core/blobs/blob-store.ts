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
  /**
   * Called once the content is stored and verified but before it is visible under its key: the upload registers
   * its hold on the blob here (docs/storage.md, garbage collection), so a collection running meanwhile cannot
   * delete it. A throw discards the upload.
   */
  beforePublish?: (digests: BlobDigests) => Promise<void>;
}

/**
 * A blob stream may offer its chunks back for reuse: whoever consumes it calls `recycle(chunk)` once the chunk's
 * bytes are gone (written to the socket), so a long slow download reads into the same few buffers instead of
 * leaving one dead buffer per chunk for V8 to collect (issue 13, defect 7: up to 64 MB of them before external
 * memory forces a collection). A consumer that never calls it is as correct, only costlier.
 */
export interface RecyclingReadable extends Readable {
  recycle(chunk: Buffer): void;
}

/** The stream's recycler, when it offers one (`RecyclingReadable`). */
export function recyclerOf(stream: Readable): ((chunk: Buffer) => void) | undefined {
  const recycle = (stream as Partial<RecyclingReadable>).recycle;
  return typeof recycle === 'function' ? recycle.bind(stream) : undefined;
}

/** Inclusive byte range, as HTTP `Range` spells it. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Content-addressed blob storage (the data folder, or an S3 bucket). A blob is visible only once complete:
 * implementations write to a temporary name and publish atomically, so a crash never leaves a partial blob.
 */
export interface BlobStore {
  put(source: AsyncIterable<Uint8Array> | Readable, options?: PutOptions): Promise<BlobDigests>;
  /** Streams the blob (or a range of it) without loading it whole. BLOB_NOT_FOUND if absent. */
  createReadStream(sha256: string, range?: ByteRange): Promise<Readable>;
  /** Reads up to `length` bytes at `offset` (CoAP blocks, small reads). */
  read(sha256: string, offset: number, length: number): Promise<Buffer>;
  /**
   * The same bytes when the store holds the blob in memory (a view, no copy), else undefined: no promise on the
   * per-block path of a cached image. Stores without a memory cache leave it out.
   */
  readCached?(sha256: string, offset: number, length: number): Buffer | undefined;
  stat(sha256: string): Promise<{ size: number } | undefined>;
  delete(sha256: string): Promise<void>;
  /** Whether the store can take writes and serve reads (readiness probe). */
  check(): Promise<void>;
  /** Every stored blob's key (start-up sweep of blobs no release references). */
  list(): Promise<string[]>;
  /**
   * Removes what a crash mid-write left behind; returns how many. Without an age, everything temporary (start-up of
   * a single process); with one, only what is older (a store shared with other processes that may be uploading).
   */
  sweepIncomplete(olderThanMs?: number): Promise<number>;
  /** For X-Accel-Redirect style offload: the blob's path relative to the store root, when it has one. */
  relativePath?(sha256: string): string;
  /** For stores reachable by devices (S3): a short-lived URL that downloads the blob, for a `302`. */
  presignedUrl?(sha256: string, options: { expiresInS: number; filename?: string }): Promise<string>;
}
