import type { ReleaseEvent } from '../catalog/release-events.js';

/**
 * What one process tells the others (and itself): a cache entry to drop, or a catalog change for CoAP Observe.
 * `cache` names a family of caches (`published`, `products`, `tokens`, `pins`, …); `key` undefined drops all
 * of that family. Messages are small: PostgreSQL NOTIFY payloads are limited to 8000 bytes.
 */
export type BusMessage =
  { kind: 'invalidate'; cache: string; key?: string } | { kind: 'release'; event: ReleaseEvent };

export type BusListener = (message: BusMessage) => void;

/**
 * The events port. `publish` delivers to this process's subscribers at once (synchronously) and to every other
 * replica as soon as the implementation can (PostgreSQL LISTEN/NOTIFY: milliseconds); a replica never receives
 * its own message twice. Delivery to other replicas is best effort: an implementation that may have missed
 * messages (a reconnect) delivers `{ kind: 'invalidate', cache: '*' }`, which every cache treats as "drop all".
 */
export interface EventBus {
  publish(message: BusMessage): void;
  subscribe(listener: BusListener): () => void;
  close(): Promise<void>;
}

/** Fan-out to this process's subscribers; a listener that throws never reaches the publisher or the others. */
export function createListeners() {
  const listeners = new Set<BusListener>();
  return {
    add(listener: BusListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    deliver(message: BusMessage): void {
      for (const listener of listeners) {
        try {
          listener(message);
        } catch {
          // A broken subscriber must not fail a publish.
        }
      }
    },
  };
}

/**
 * The single-process bus (SQLite, the default): every message stays in this process. `relay`, when given,
 * also hands each message to a transport that reaches sibling processes (`--workers N`: the cluster primary),
 * and `receive` is what that transport calls with their messages.
 */
export function createLocalEventBus(relay?: (message: BusMessage) => void) {
  const listeners = createListeners();
  return {
    publish(message: BusMessage): void {
      listeners.deliver(message);
      relay?.(message);
    },
    subscribe: listeners.add,
    receive: listeners.deliver,
    close: async () => undefined,
  } satisfies EventBus & { receive(message: BusMessage): void };
}
