import { Readable } from 'node:stream';
import type { BlobStore, ByteRange } from '../../core/blobs/blob-store.js';

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
  const cache = new Map<string, Buffer>();
  const loading = new Map<string, Promise<Buffer | undefined>>();
  // Blobs known to be too large to cache: their size never changes, so they are not stat'ed on every request.
  const tooLarge = new Set<string>();
  let total = 0;

  function touch(key: string, value: Buffer): Buffer {
    cache.delete(key);
    cache.set(key, value);
    return value;
  }

  async function load(key: string): Promise<Buffer | undefined> {
    const hit = cache.get(key);
    options.onLookup?.(hit !== undefined);
    if (hit) return touch(key, hit);
    if (tooLarge.has(key)) return undefined;
    const pending = loading.get(key);
    if (pending) return pending;
    const promise = (async () => {
      const stat = await inner.stat(key);
      if (!stat) return undefined;
      if (stat.size > options.maxBlobBytes || stat.size > options.maxBytes) {
        if (tooLarge.size >= 10_000) tooLarge.clear();
        tooLarge.add(key);
        return undefined;
      }
      const data = await inner.read(key, 0, stat.size);
      if (data.length !== stat.size) return undefined;
      while (total + data.length > options.maxBytes && cache.size > 0) {
        const [oldest, buffer] = cache.entries().next().value as [string, Buffer];
        cache.delete(oldest);
        total -= buffer.length;
      }
      cache.set(key, data);
      total += data.length;
      return data;
    })().finally(() => loading.delete(key));
    loading.set(key, promise);
    return promise;
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
    async delete(sha256: string) {
      tooLarge.delete(sha256);
      const cached = cache.get(sha256);
      if (cached) {
        cache.delete(sha256);
        total -= cached.length;
      }
      await inner.delete(sha256);
    },
    stat: (sha256) => inner.stat(sha256),
    list: () => inner.list(),
    sweepIncomplete: () => inner.sweepIncomplete(),
    check: () => inner.check(),
    relativePath: inner.relativePath?.bind(inner),
    cachedBytes: () => total,
  };
}
