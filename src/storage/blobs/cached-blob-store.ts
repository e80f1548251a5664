import { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import type { BlobStore, ByteRange } from '../../core/blobs/blob-store.js';
import { createLoadingCache, entryBound } from '../../core/cache.js';

export interface BlobCacheOptions {
  /** Total bytes kept in memory. */
  maxBytes: number;
  /** Blobs larger than this are never cached (streamed from the inner store). */
  maxBlobBytes: number;
  /** Told of every read: answered from memory (true) or from the inner store (false). */
  onLookup?: (hit: boolean) => void;
}

/**
 * Keeps hot images in memory, least recently used out first. A fleet downloads the same few images over and over
 * (every device of a product, every CoAP block); serving them from memory saves a file open and a read per
 * request or block. Blobs are immutable (content-addressed), so a cached copy can never be stale; deletes evict.
 */
/**
 * Views (no copies) of 1 MiB. Handing a socket the whole image in one write would end the response before the
 * bytes left the process, and a graceful shutdown would then see an "idle" connection and cut the download.
 */
function* chunksOf(data: Buffer, size = 1024 * 1024): Generator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}

export function createCachedBlobStore(
  inner: BlobStore,
  options: BlobCacheOptions,
): BlobStore & { cachedBytes(): number } {
  const maxEntry = Math.min(options.maxBlobBytes, options.maxBytes);
  // Blobs known to be too large to cache: their size never changes, so they are not stat'ed on every request.
  const tooLarge = new LRUCache<string, true>(entryBound(10_000));
  // Blobs are immutable: no TTL, and no bus (a content-addressed key never names other bytes).
  const cache = createLoadingCache<Buffer>({
    name: 'blobs',
    maxSize: options.maxBytes,
    maxEntrySize: maxEntry,
    sizeOf: (data) => data.length,
    async load(key) {
      if (tooLarge.has(key)) return undefined;
      const stat = await inner.stat(key);
      if (!stat) return undefined;
      if (stat.size > maxEntry) {
        tooLarge.set(key, true);
        return undefined;
      }
      const data = await inner.read(key, 0, stat.size);
      return data.length === stat.size ? data : undefined;
    },
  });
  async function load(key: string): Promise<Buffer | undefined> {
    const hit = cache.has(key);
    options.onLookup?.(hit);
    if (tooLarge.has(key)) return undefined;
    // Size first: a load in flight holds room in the cache (lru-cache's placeholder), and a blob that will not
    // be kept must not evict one that is.
    if (!hit) {
      const stat = await inner.stat(key);
      if (!stat) return undefined;
      if (stat.size > maxEntry) {
        tooLarge.set(key, true);
        return undefined;
      }
    }
    return cache.get(key);
  }

  return {
    ...inner,
    put: (source, opts) => inner.put(source, opts),
    async createReadStream(sha256: string, range?: ByteRange) {
      const data = await load(sha256).catch(() => undefined);
      if (!data) return inner.createReadStream(sha256, range);
      const slice = range ? data.subarray(range.start, range.end + 1) : data;
      return Readable.from(chunksOf(slice), { objectMode: false });
    },
    async read(sha256: string, offset: number, length: number) {
      const data = await load(sha256).catch(() => undefined);
      if (!data) return inner.read(sha256, offset, length);
      return data.subarray(offset, offset + length);
    },
    readCached(sha256: string, offset: number, length: number) {
      const data = cache.peek(sha256);
      if (data === undefined) return undefined;
      options.onLookup?.(true);
      return data.subarray(offset, offset + length);
    },
    async delete(sha256: string) {
      tooLarge.delete(sha256);
      cache.drop(sha256);
      await inner.delete(sha256);
    },
    stat: (sha256) => inner.stat(sha256),
    list: () => inner.list(),
    sweepIncomplete: (olderThanMs) => inner.sweepIncomplete(olderThanMs),
    check: () => inner.check(),
    relativePath: inner.relativePath?.bind(inner),
    presignedUrl: inner.presignedUrl?.bind(inner),
    cachedBytes: () => cache.size(),
  };
}
