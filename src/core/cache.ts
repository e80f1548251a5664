import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from './clock.js';
import type { EventBus } from './events/event-bus.js';

/**
 * The one cache helper: `lru-cache` with its time taken from the injected clock (so tests move it like every other
 * time in the core), loads through `fetchMethod` (concurrent misses share one load, a failed load is not cached),
 * and invalidation as one call that also reaches every other replica through the events bus.
 */
export interface LoadingCacheOptions<V> {
  /** The cache family on the bus: every cache of that name, in every process, drops the key on `invalidate`. */
  readonly name: string;
  readonly load: (key: string) => Promise<V | undefined>;
  /** How long an entry may be served, ms; 0 = until evicted (immutable values). A safety net under the bus. */
  readonly ttlMs?: number;
  /** Entries kept at most. */
  readonly max?: number;
  /** Total size kept at most, in the units of `sizeOf` (bytes for blobs); values larger than `maxEntrySize` are never kept. */
  readonly maxSize?: number;
  readonly maxEntrySize?: number;
  readonly sizeOf?: (value: V) => number;
  readonly clock?: Clock;
  /** Without a bus, invalidation stays in this process. */
  readonly bus?: Pick<EventBus, 'publish' | 'subscribe'>;
}

export interface LoadingCache<V> {
  /** The cached value, loading it on a miss; undefined when the loader found nothing (not cached). */
  get(key: string): Promise<V | undefined>;
  /** Whether `key` is kept (or being loaded), without loading it. */
  has(key: string): boolean;
  /**
   * The kept, fresh value, without loading it (undefined on a miss or while a load runs): the synchronous path of
   * callers that fall back to `get` (a CoAP block served without a promise).
   */
  peek(key: string): V | undefined;
  /** Drops `key` (every key when omitted) here and on every replica. */
  invalidate(key?: string): void;
  /** Drops here only (what a message from another replica does). */
  drop(key?: string): void;
  /** Sum of `sizeOf` over what is kept. */
  size(): number;
  /** Stops listening to the bus. */
  close(): void;
}

/**
 * Milliseconds on the injected clock, for lru-cache's TTL arithmetic (read on every hit: `Date.now` for the
 * system clock rather than a `Date` per lookup).
 */
const perfOf = (clock: Clock) => ({ now: clock === systemClock ? Date.now : () => clock().getTime() });

/**
 * lru-cache options that keep at most `max` entries without allocating for them up front. Given `max`, lru-cache
 * allocates five arrays of that length at construction (about 28 bytes an entry: 2.8 MB for 100,000, resident from
 * start-up whether or not the cache is ever used; a dozen such bounds were a third of an idle server's heap).
 * Counting every entry as 1 against `maxSize` is the same bound with storage that grows as entries arrive.
 */
export function entryBound(max: number): { maxSize: number; sizeCalculation: () => number } {
  return { maxSize: Math.max(1, max), sizeCalculation: () => 1 };
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export function createLoadingCache<V extends {}>(options: LoadingCacheOptions<V>): LoadingCache<V> {
  const clock = options.clock ?? systemClock;
  const cache = new LRUCache<string, V>({
    // With a size bound, the entry bound is lru-cache's own `max` (small by default); without one, `entryBound`.
    ...(options.maxSize ? { max: options.max ?? 10_000 } : entryBound(options.max ?? 10_000)),
    ...(options.ttlMs ? { ttl: options.ttlMs, ttlResolution: 0, perf: perfOf(clock) } : {}),
    ...(options.maxSize
      ? {
          maxSize: options.maxSize,
          maxEntrySize: options.maxEntrySize ?? options.maxSize,
          sizeCalculation: (value: V) => Math.max(1, Math.ceil(options.sizeOf?.(value) ?? 1)),
        }
      : {}),
    fetchMethod: (key) => options.load(key),
    // An invalidation while a load is in flight: the caller still gets its answer, but it is not kept (the load
    // may have read the state from before the change), so the next request loads again.
    ignoreFetchAbort: true,
  });
  const drop = (key?: string): void => {
    if (key === undefined) cache.clear();
    else cache.delete(key);
  };
  const unsubscribe = options.bus?.subscribe((message) => {
    if (message.kind !== 'invalidate') return;
    if (message.cache === '*') drop();
    else if (message.cache === options.name) drop(message.key);
  });
  return {
    // A fresh hit is answered without lru-cache's `fetch` machinery (its options and status per call): every
    // device check-in reads three caches. A miss, a stale entry or a load in flight still goes through `fetch`.
    get: (key) => {
      const hit = cache.get(key);
      return hit === undefined ? cache.fetch(key) : Promise.resolve(hit);
    },
    has: (key) => cache.has(key),
    peek: (key) => cache.get(key),
    invalidate(key) {
      if (options.bus) options.bus.publish({ kind: 'invalidate', cache: options.name, key });
      else drop(key);
    },
    drop,
    size: () => cache.calculatedSize,
    close: () => unsubscribe?.(),
  };
}

/** A whole table held as one value (every product, every token, every pin): one cache entry, one invalidation. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export function createSnapshot<V extends {}>(
  options: Omit<LoadingCacheOptions<V>, 'load' | 'max' | 'maxSize' | 'maxEntrySize' | 'sizeOf'> & {
    load: () => Promise<V>;
  },
) {
  const cache = createLoadingCache<V>({ ...options, max: 1, load: () => options.load() });
  return {
    get: (): Promise<V> => cache.get('') as Promise<V>,
    /**
     * The value once loaded, without a promise (undefined before, or while a load runs): the check-in path skips
     * the await (a microtask per call).
     */
    peek: (): V | undefined => cache.peek(''),
    /** Everywhere: this process and every replica. */
    invalidate: () => cache.invalidate(),
    /** Here only: the next `get` loads again. */
    drop: () => cache.drop(),
    close: cache.close,
  };
}

/**
 * A bounded map of small, rebuildable facts that expire `ttlMs` after they were written (or read with
 * `touch`), oldest out first when full: the CoAP adapters' per-device state. Losing an entry costs the device a
 * new request, never a wrong answer.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export class ExpiringMap<K extends {}, V extends {}> {
  readonly #cache: LRUCache<K, V>;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  #purgedAt = 0;

  /**
   * `bytes` bounds the total of `sizeOf` over the entries, whatever their number (issue 13, defect 5: 10,000
   * payload copies of 60 kB were 600 MB). Expired entries are purged on writes (at most ten times per TTL), so
   * memory is bounded in time too without a timer.
   */
  constructor(
    maxEntries: number,
    ttlMs: number,
    clock: Clock = systemClock,
    bytes?: { max: number; sizeOf: (value: V) => number },
  ) {
    this.#clock = clock;
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
    // Without a byte bound the entry count is the size (no up-front arrays, `entryBound`); with one, `set`
    // enforces the count itself.
    const bound = bytes
      ? {
          maxSize: bytes.max,
          maxEntrySize: bytes.max,
          sizeCalculation: (value: V) => Math.max(1, Math.ceil(bytes.sizeOf(value))),
        }
      : entryBound(maxEntries);
    this.#cache = new LRUCache<K, V>({ ...bound, ttl: ttlMs, ttlResolution: 0, perf: perfOf(clock) });
  }

  get(key: K, { touch = false }: { touch?: boolean } = {}): V | undefined {
    return this.#cache.get(key, { updateAgeOnGet: touch });
  }

  set(key: K, value: V): void {
    const now = this.#clock().getTime();
    if (now - this.#purgedAt >= this.#ttlMs / 10) {
      this.#purgedAt = now;
      this.#cache.purgeStale();
    }
    if (this.#cache.size >= this.#maxEntries && !this.#cache.has(key)) this.#cache.pop();
    this.#cache.set(key, value);
  }

  delete(key: K): void {
    this.#cache.delete(key);
  }

  /** Drops every entry the predicate selects (e.g. those of a revoked release). */
  deleteWhere(predicate: (value: V) => boolean): void {
    const doomed = [...this.#cache.entries()].filter(([, v]) => predicate(v)).map(([k]) => k);
    for (const key of doomed) this.#cache.delete(key);
  }

  /** The total of `sizeOf` over the entries kept (0 without a byte bound). */
  get byteSize(): number {
    return this.#cache.calculatedSize;
  }

  get size(): number {
    return this.#cache.size;
  }
}
