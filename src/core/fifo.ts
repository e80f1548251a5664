/**
 * A first-in, first-out queue whose front is an index. A plain array is not one: `shift()` and `splice(0, n)`
 * move every element that stays, and an array of more than some 16,000 elements lives in V8's large-object space,
 * where it cannot be trimmed from the front in place. Measured on the write-behind queue at its bound of 200,000
 * (`node bench/writer/full-queue.mjs`, docs/benchmarks.md "A full write-behind queue"): 206–264 µs per check-in
 * with `shift()`, 3.3–4.4 µs with this. A slot leaving the front is cleared at once (it keeps nothing alive), and
 * the array is compacted once the cleared front is as long as what is left: each element moves at most once on
 * average.
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** The oldest element; undefined when the queue is empty. */
  peek(): T | undefined {
    return this.#items[this.#head];
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Removes and returns the oldest `count` elements (fewer when fewer are queued). */
  take(count: number): T[] {
    const end = Math.min(this.#head + count, this.#items.length);
    const taken = this.#items.slice(this.#head, end) as T[];
    this.drop(end - this.#head);
    return taken;
  }

  /** Removes the oldest `count` elements. */
  drop(count: number): void {
    const end = Math.min(this.#head + count, this.#items.length);
    for (let i = this.#head; i < end; i++) this.#items[i] = undefined;
    this.#head = end;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Removes elements from the front for as long as `match` accepts them. */
  dropWhile(match: (item: T) => boolean): void {
    let count = 0;
    while (this.#head + count < this.#items.length && match(this.#items[this.#head + count] as T)) count++;
    this.drop(count);
  }

  /** Removes the oldest element equal to `item` (anywhere in the queue); whether there was one. */
  remove(item: T): boolean {
    const i = this.#items.indexOf(item, this.#head);
    if (i >= 0) this.#items.splice(i, 1);
    return i >= 0;
  }

  /** Puts `items` in front of what is queued, in their order; then keeps only the newest `max`. Returns how many went. */
  unshiftAll(items: readonly T[], max = Infinity): number {
    const queued = this.#items.slice(this.#head) as T[];
    const all = items.length === 0 ? queued : [...items, ...queued];
    const dropped = Math.max(0, all.length - max);
    this.#items = dropped > 0 ? all.slice(dropped) : all;
    this.#head = 0;
    return dropped;
  }

  /** The newest element that `match` accepts, searching from the newest; undefined when none does. */
  findNewest(match: (item: T) => boolean): T | undefined {
    for (let i = this.#items.length - 1; i >= this.#head; i--) {
      const item = this.#items[i] as T;
      if (match(item)) return item;
    }
    return undefined;
  }
}
