/**
 * A bounded map whose entries expire `ttlMs` after they were last written or read with `touch`. Insertion order
 * is use order, so the first entry is always the one to evict when the bound is reached. The adapters keep
 * small, rebuildable facts here (STM32 ids, a transfer's decision); losing one costs the device a new request,
 * never a wrong answer.
 */
export class ExpiringMap<K, V> {
  readonly #entries = new Map<K, { value: V; expires: number }>();

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: K, { touch = false }: { touch?: boolean } = {}): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    if (touch) this.set(key, entry.value);
    return entry.value;
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expires: this.now() + this.ttlMs });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  /** Drops every entry the predicate selects (e.g. those of a revoked release). */
  deleteWhere(predicate: (value: V) => boolean): void {
    for (const [key, entry] of this.#entries) if (predicate(entry.value)) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
