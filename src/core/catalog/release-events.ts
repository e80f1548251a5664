import type { Release } from './types.js';

export type ReleaseEvent = { type: 'created' | 'published' | 'revoked' | 'deleted'; release: Release };
export type ReleaseListener = (event: ReleaseEvent) => void;

/** In-process fan-out of catalog changes (CoAP Observe, caches). Listener errors never reach the publisher. */
export function createReleaseEvents() {
  const listeners = new Set<ReleaseListener>();
  return {
    subscribe(listener: ReleaseListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(event: ReleaseEvent): void {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch {
          // A broken observer must not fail a publish.
        }
      }
    },
  };
}

export type ReleaseEvents = ReturnType<typeof createReleaseEvents>;
