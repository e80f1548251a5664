/**
 * Continuation that stays synchronous when the value is: the block-serving path is called tens of thousands
 * of times a second, and most handlers and in-memory reads answer synchronously, so skipping a promise and a
 * microtask per step is measurable (docs/coap.md, "Performance").
 */
export type MaybePromise<T> = T | Promise<T>;

export function isPromiseLike<T>(value: MaybePromise<T> | PromiseLike<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

export function andThen<T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return isPromiseLike(value) ? value.then(next) : next(value);
}
