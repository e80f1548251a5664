/**
 * Message deduplication (RFC 7252 §4.5): a CON seen again within EXCHANGE_LIFETIME from the same peer with
 * the same message id gets the same response bytes and is not processed again.
 *
 * Entries go into a Map in arrival order; since every entry lives for the same time, arrival order is expiry
 * order, so one sweep timer drops expired entries from the front, and the count and byte bounds evict the oldest.
 * No timer per message (node-coap's per-message timers are what made it grow, baselines.md §3d).
 */

/** EXCHANGE_LIFETIME with the default transmission parameters (RFC 7252 §4.8.2): 247 s. */
export const EXCHANGE_LIFETIME_MS = 247_000;

export interface DedupCacheOptions {
  /** How long a message id is remembered, in ms. Default EXCHANGE_LIFETIME (247 000). */
  readonly lifetimeMs?: number;
  /**
   * Bound on remembered exchanges. Past it the oldest is forgotten early; a late retransmission of it is then
   * processed again, which RFC 7252 §4.5 tolerates for idempotent requests. Default 20 000.
   */
  readonly maxEntries?: number;
  /**
   * Bound on the response bytes remembered, whatever their number: 20 000 answers of 1 KiB would otherwise be
   * 20 MB. Default 4 MiB; past it the oldest exchanges are forgotten first, as with `maxEntries`.
   */
  readonly maxBytes?: number;
  /** Sweep period in ms. Default 1000. */
  readonly sweepIntervalMs?: number;
  readonly now?: () => number;
}

export interface DedupEntry {
  readonly key: string;
  readonly expires: number;
  /** The response sent; undefined while the handler is still running (a duplicate is then dropped). */
  readonly response: Buffer | undefined;
}

interface Entry {
  readonly key: string;
  readonly expires: number;
  response: Buffer | undefined;
}

export class DedupCache {
  readonly #entries = new Map<string, Entry>();
  readonly #lifetimeMs: number;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout;

  constructor(options: DedupCacheOptions = {}) {
    this.#lifetimeMs = options.lifetimeMs ?? EXCHANGE_LIFETIME_MS;
    this.#maxEntries = Math.max(1, options.maxEntries ?? 20_000);
    this.#maxBytes = Math.max(0, options.maxBytes ?? 4 * 1024 * 1024);
    this.#now = options.now ?? Date.now;
    this.#timer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 1000);
    this.#timer.unref();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Response bytes remembered now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The live entry for a key, if any. */
  get(key: string): DedupEntry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.#now()) {
      this.#remove(entry);
      return undefined;
    }
    return entry;
  }

  /** Records that processing of `key` has started; returns the entry to `complete` later. */
  begin(key: string): DedupEntry {
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.values().next();
      if (oldest.done !== true) this.#remove(oldest.value);
    }
    const previous = this.#entries.get(key);
    if (previous !== undefined) this.#remove(previous);
    const entry: Entry = { key, expires: this.#now() + this.#lifetimeMs, response: undefined };
    this.#entries.set(key, entry);
    return entry;
  }

  /** The response sent for an entry from `begin`; the oldest exchanges go while the bytes are over the bound. */
  complete(entry: DedupEntry, response: Buffer | undefined): void {
    const own = this.#entries.get(entry.key);
    // Evicted (or replaced) while its handler ran: nothing to remember.
    if (own !== entry || own.response !== undefined || response === undefined) return;
    own.response = response;
    this.#bytes += response.length;
    for (const oldest of this.#entries.values()) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#remove(oldest);
    }
  }

  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry !== undefined) this.#remove(entry);
  }

  sweep(): void {
    const now = this.#now();
    for (const entry of this.#entries.values()) {
      if (entry.expires > now) break;
      this.#remove(entry);
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.#entries.clear();
    this.#bytes = 0;
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry.key);
    if (entry.response !== undefined) this.#bytes -= entry.response.length;
  }
}
