import type { EventBus } from '../events/event-bus.js';
import type { Release } from './types.js';

export type ReleaseEvent = { type: 'created' | 'published' | 'revoked' | 'deleted'; release: Release };
export type ReleaseListener = (event: ReleaseEvent) => void;

/**
 * Fan-out of catalog changes (CoAP Observe, adapter state). With a bus, an event emitted by any replica reaches
 * the listeners of every replica (this one at once); without one it stays in this process. Listener errors never
 * reach the publisher.
 */
export function createReleaseEvents(bus?: Pick<EventBus, 'publish' | 'subscribe'>) {
  const listeners = new Set<ReleaseListener>();
  const deliver = (event: ReleaseEvent): void => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A broken observer must not fail a publish.
      }
    }
  };
  bus?.subscribe((message) => {
    if (message.kind === 'release') deliver(message.event);
  });
  return {
    subscribe(listener: ReleaseListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(event: ReleaseEvent): void {
      if (bus) bus.publish({ kind: 'release', event });
      else deliver(event);
    },
  };
}

export type ReleaseEvents = ReturnType<typeof createReleaseEvents>;
