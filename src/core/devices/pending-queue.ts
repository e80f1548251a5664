/**
 * What waits for the write-behind flush (ADR 0001): first in, first out, and bounded, so a database that stays
 * away costs the oldest records and never the process's memory.
 *
 * Not a plain array: `shift()` and `splice(0, n)` move every element that stays, and a queue of 200,000 records
 * lives in V8's large-object space, where the array cannot be trimmed from the front in place. Measured with
 * `node bench/writer/full-queue.mjs` (docs/benchmarks.md, "A full write-behind queue"): at the bound a check-in
 * cost the registry 206–264 µs against 3.4–3.7 µs with room in the queue; with this queue, 3.6–4.4 µs. Here the
 * front is an index: a dropped or taken slot is cleared at once (nothing is kept alive by it) and the array is
 * compacted once the cleared front is as long as what is left, so each record is moved at most once on average.
 */
export class PendingQueue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  constructor(readonly max: number) {}

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Appends `item`; when the queue is full the oldest record goes. Returns whether one was dropped. */
  push(item: T): boolean {
    const full = this.length >= this.max;
    if (full) this.#advance(1);
    this.#items.push(item);
    return full;
  }

  /** Removes and returns the oldest `count` records (fewer when fewer are queued). */
  take(count: number): T[] {
    const end = Math.min(this.#head + count, this.#items.length);
    const taken = this.#items.slice(this.#head, end) as T[];
    this.#advance(end - this.#head);
    return taken;
  }

  /**
   * Puts records taken earlier (and not written) back in front, in their order, before anything queued since;
   * when that overfills the queue, the oldest go. Returns how many went.
   */
  putBack(items: readonly T[]): number {
    const queued = this.#items.slice(this.#head) as T[];
    const all = items.length === 0 ? queued : [...items, ...queued];
    const dropped = Math.max(0, all.length - this.max);
    this.#items = dropped > 0 ? all.slice(dropped) : all;
    this.#head = 0;
    return dropped;
  }

  /** The newest record that `match` accepts, searching from the newest; undefined when none does. */
  findNewest(match: (item: T) => boolean): T | undefined {
    for (let i = this.#items.length - 1; i >= this.#head; i--) {
      const item = this.#items[i] as T;
      if (match(item)) return item;
    }
    return undefined;
  }

  #advance(count: number): void {
    for (let i = this.#head; i < this.#head + count; i++) this.#items[i] = undefined;
    this.#head += count;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
