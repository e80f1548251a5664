import { createLoadingCache } from '../cache.js';
import type { Clock } from '../clock.js';
import type { EventBus } from '../events/event-bus.js';
import { newestFirst } from '../versions/release-version.js';
import type { ReleaseRepository } from './ports.js';
import type { Release } from './types.js';

/**
 * Every device check-in asks "what is the newest published release of product P?". The answer changes only on
 * publish/revoke/delete, so it is cached per product, newest first: invalidated on every replica through the bus
 * when a release changes, and refreshed after `ttlMs` in case a message was lost.
 */
export function createPublishedCache(
  releases: Pick<ReleaseRepository, 'list'>,
  options: { ttlMs: number; clock?: Clock; bus?: EventBus },
) {
  return createLoadingCache<Release[]>({
    name: 'published',
    ttlMs: options.ttlMs,
    clock: options.clock,
    bus: options.bus,
    load: async (product) => newestFirst(await releases.list(product, { states: ['published'] })),
  });
}
