import { Fifo } from '../fifo.js';

/**
 * When this process made a deployment's recent offers, for its rate cap (`ratePerMinute`): times in the order
 * they were taken, the ones older than the window forgotten from the front, about one per offer. A `Fifo`
 * (`../fifo.ts`): a cap of 100,000 a minute keeps as many here, where an array's `shift()` cost 16 µs each
 * (a loop of one push and one shift on Node 20; 0.5 µs at 1,000).
 */
export class OfferWindow {
  readonly #times = new Fifo<number>();

  /** Offers in the window. */
  get count(): number {
    return this.#times.length;
  }

  /** The oldest offer in the window, ms; undefined when there is none. */
  oldest(): number | undefined {
    return this.#times.peek();
  }

  add(atMs: number): void {
    this.#times.push(atMs);
  }

  /** An offer taken at `atMs` that did not happen (its write lost a race): it no longer counts. */
  remove(atMs: number): void {
    this.#times.remove(atMs);
  }

  /** Forgets the offers made at or before `cutoffMs`. */
  forgetUpTo(cutoffMs: number): void {
    this.#times.dropWhile((at) => at <= cutoffMs);
  }
}
