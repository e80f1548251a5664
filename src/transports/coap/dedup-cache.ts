/**
 * Message deduplication (RFC 7252 §4.5): a CON seen again within EXCHANGE_LIFETIME from the same peer with
 * the same message id gets the same response bytes and is not processed again.
 *
 * Entries go into a Map in arrival order; since every entry lives for the same time, arrival order is expiry
 * order, so one sweep timer drops expired entries from the front and the count bound evicts the oldest.
 * No timer per message (node-coap's per-message timers are what made it grow, baselines.md §3d).
 */

/** EXCHANGE_LIFETIME with the default transmission parameters (RFC 7252 §4.8.2): 247 s. */
export const EXCHANGE_LIFETIME_MS = 247_000;

export interface DedupCacheOptions {
  /** How long a message id is remembered, in ms. Default EXCHANGE_LIFETIME (247 000). */
  readonly lifetimeMs?: number;
  /**
   * Bound on remembered exchanges. Past it the oldest is forgotten early; a late retransmission of it is then
   * processed again, which RFC 7252 §4.5 tolerates for idempotent requests. Default 20 000 (≈ 25 MB worst case).
   */
  readonly maxEntries?: number;
  /** Sweep period in ms. Default 1000. */
  readonly sweepIntervalMs?: number;
  readonly now?: () => number;
}

export interface DedupEntry {
  readonly expires: number;
  /** The response sent; undefined while the handler is still running (a duplicate is then dropped). */
  response: Buffer | undefined;
}

export class DedupCache {
  readonly #entries = new Map<string, DedupEntry>();
  readonly #lifetimeMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout;

  constructor(options: DedupCacheOptions = {}) {
    this.#lifetimeMs = options.lifetimeMs ?? EXCHANGE_LIFETIME_MS;
    this.#maxEntries = Math.max(1, options.maxEntries ?? 20_000);
    this.#now = options.now ?? Date.now;
    this.#timer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 1000);
    this.#timer.unref();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The live entry for a key, if any. */
  get(key: string): DedupEntry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Records that processing of `key` has started; returns the entry to complete later. */
  begin(key: string): DedupEntry {
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    const entry: DedupEntry = { expires: this.#now() + this.#lifetimeMs, response: undefined };
    this.#entries.set(key, entry);
    return entry;
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (entry.expires > now) break;
      this.#entries.delete(key);
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.#entries.clear();
  }
}
