import { Fifo } from '../fifo.js';

/**
 * What waits for the write-behind flush (ADR 0001): first in, first out, and bounded, so a database that stays
 * away costs the oldest records and never the process's memory. At the bound every check-in drops one record:
 * a `Fifo` (why not an array: `../fifo.ts`).
 */
export class PendingQueue<T> {
  readonly #fifo = new Fifo<T>();

  constructor(readonly max: number) {}

  get length(): number {
    return this.#fifo.length;
  }

  /** Appends `item`; when the queue is full the oldest record goes. Returns whether one was dropped. */
  push(item: T): boolean {
    const full = this.#fifo.length >= this.max;
    if (full) this.#fifo.drop(1);
    this.#fifo.push(item);
    return full;
  }

  /** Removes and returns the oldest `count` records (fewer when fewer are queued). */
  take(count: number): T[] {
    return this.#fifo.take(count);
  }

  /**
   * Puts records taken earlier (and not written) back in front, in their order, before anything queued since;
   * when that overfills the queue, the oldest go. Returns how many went.
   */
  putBack(items: readonly T[]): number {
    return this.#fifo.unshiftAll(items, this.max);
  }

  /** The newest record that `match` accepts, searching from the newest; undefined when none does. */
  findNewest(match: (item: T) => boolean): T | undefined {
    return this.#fifo.findNewest(match);
  }
}
