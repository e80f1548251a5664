/**
 * A bounded map whose entries expire `ttlMs` after they were last written or read with `touch`. Insertion order
 * is use order, so the first entry is always the one to evict when the bound is reached. The adapters keep
 * small, rebuildable facts here (STM32 ids, a transfer's decision); losing one costs the device a new request,
 * never a wrong answer.
 */
export class ExpiringMap<K, V> {
  readonly #entries = new Map<K, { value: V; expires: number; bytes: number }>();
  #bytes = 0;

  /**
   * `bytes` bounds the total of `sizeOf` over the entries, whatever their number (issue 13, defect 5: 10,000
   * payload copies of 60 kB were 600 MB). Expired entries at the old end go on every write, so memory is bounded
   * in time too without a timer.
   */
  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly bytes?: { max: number; sizeOf: (value: V) => number },
  ) {}

  #remove(key: K): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#bytes -= entry.bytes;
    this.#entries.delete(key);
  }

  get(key: K, { touch = false }: { touch?: boolean } = {}): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.now()) {
      this.#remove(key);
      return undefined;
    }
    if (touch) this.set(key, entry.value);
    return entry.value;
  }

  set(key: K, value: V): void {
    this.#remove(key);
    const now = this.now();
    const bytes = this.bytes?.sizeOf(value) ?? 0;
    this.#entries.set(key, { value, expires: now + this.ttlMs, bytes });
    this.#bytes += bytes;
    const max = this.bytes?.max ?? Number.POSITIVE_INFINITY;
    for (const [oldest, entry] of this.#entries) {
      const over = this.#entries.size > this.maxEntries || this.#bytes > max;
      if (!over && entry.expires > now) break;
      this.#remove(oldest);
    }
  }

  delete(key: K): void {
    this.#remove(key);
  }

  /** Drops every entry the predicate selects (e.g. those of a revoked release). */
  deleteWhere(predicate: (value: V) => boolean): void {
    for (const [key, entry] of this.#entries) if (predicate(entry.value)) this.#remove(key);
  }

  /** The total of `sizeOf` over the entries kept. */
  get byteSize(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }
}
