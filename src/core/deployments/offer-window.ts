/**
 * When this process made a deployment's recent offers, for its rate cap (`ratePerMinute`): times in the order
 * they were taken, the ones older than the window forgotten from the front.
 *
 * Not a plain array with `shift()`: that moves every time that stays, and a cap of 100,000 a minute keeps as many
 * in the window. A loop of one push and one shift cost 16 µs at 100,000 and 50 µs at 300,000 on Node 20 (0.5 µs
 * at 1,000), and each check-in that takes an offer forgets about one. As in the write-behind queue (`devices/pending-queue.ts`), the front is an index and the
 * array is compacted once the forgotten front is as long as what is left.
 */
export class OfferWindow {
  #times: number[] = [];
  #head = 0;

  /** Offers in the window. */
  get count(): number {
    return this.#times.length - this.#head;
  }

  /** The oldest offer in the window, ms; undefined when there is none. */
  oldest(): number | undefined {
    return this.#head < this.#times.length ? this.#times[this.#head] : undefined;
  }

  add(atMs: number): void {
    this.#times.push(atMs);
  }

  /** An offer taken at `atMs` that did not happen (its write lost a race): it no longer counts. */
  remove(atMs: number): void {
    const i = this.#times.indexOf(atMs, this.#head);
    if (i >= 0) this.#times.splice(i, 1);
  }

  /** Forgets the offers made at or before `cutoffMs`. */
  forgetUpTo(cutoffMs: number): void {
    while (this.#head < this.#times.length && (this.#times[this.#head] as number) <= cutoffMs) this.#head++;
    if (this.#head === this.#times.length) {
      this.#times = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
  }
}
