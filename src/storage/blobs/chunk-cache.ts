import { LRUCache } from 'lru-cache';

export interface ChunkCacheOptions {
  /** Bytes kept in memory over all blobs. */
  maxBytes: number;
  /** Size of one cached piece; reads are served from whole aligned chunks. */
  chunkBytes: number;
  /** Fetches `[start, end]` (inclusive) of a blob; may return fewer bytes at the end of the blob. */
  load(key: string, start: number, end: number): Promise<Buffer>;
}

/**
 * Small ranged reads (CoAP blocks of 16–1024 bytes, HTTP clients that download in small `Range` pieces) served
 * from aligned chunks kept in memory, least recently used out first, bounded by bytes. A CoAP transfer of a
 * 1 MiB image in 512-byte blocks is 2,048 requests; through 256 KiB chunks it costs the object store four.
 * Blobs are immutable, so a chunk is never stale. Concurrent misses on one chunk share one fetch.
 */
export function createChunkCache(options: ChunkCacheOptions) {
  const { chunkBytes } = options;
  const chunks = new LRUCache<string, Buffer>({
    maxSize: Math.max(options.maxBytes, chunkBytes),
    sizeCalculation: (b) => Math.max(b.length, 1),
  });
  const loading = new Map<string, Promise<Buffer>>();

  function chunk(key: string, index: number): Promise<Buffer> {
    const id = `${key}:${index}`;
    const hit = chunks.get(id);
    if (hit) return Promise.resolve(hit);
    const pending = loading.get(id);
    if (pending) return pending;
    const start = index * chunkBytes;
    const promise = options
      .load(key, start, start + chunkBytes - 1)
      .then((data) => {
        if (options.maxBytes > 0) chunks.set(id, data);
        return data;
      })
      .finally(() => loading.delete(id));
    loading.set(id, promise);
    return promise;
  }

  return {
    /** Up to `length` bytes at `offset`; fewer (or none) past the end of the blob. */
    async read(key: string, offset: number, length: number): Promise<Buffer> {
      if (length <= 0) return Buffer.alloc(0);
      const first = Math.floor(offset / chunkBytes);
      const last = Math.floor((offset + length - 1) / chunkBytes);
      const parts: Buffer[] = [];
      for (let index = first; index <= last; index++) {
        const data = await chunk(key, index);
        const from = index === first ? offset - index * chunkBytes : 0;
        const to = Math.min(data.length, offset + length - index * chunkBytes);
        if (from < to) parts.push(data.subarray(from, to));
        // A short chunk is the end of the blob.
        if (data.length < chunkBytes) break;
      }
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    },
    evict(key: string): void {
      for (const id of chunks.keys()) if (id.startsWith(`${key}:`)) chunks.delete(id);
    },
    cachedBytes: (): number => chunks.calculatedSize,
  };
}
