import { newestFirst } from '../versions/release-version.js';
import type { ReleaseRepository } from './ports.js';
import type { Release } from './types.js';

/**
 * Every device check-in asks "what is the newest published release of product P?". The answer changes only on
 * publish/revoke/delete, so it is cached per product: invalidated at once by this process's own changes, and
 * refreshed after `ttlMs` so changes made through another replica show up within that time.
 */
export function createPublishedCache(releases: Pick<ReleaseRepository, 'list'>, ttlMs: number) {
  const entries = new Map<string, { at: number; value: Promise<Release[]> }>();

  return {
    get(product: string): Promise<Release[]> {
      const hit = entries.get(product);
      if (hit && Date.now() - hit.at < ttlMs) return hit.value;
      const value = releases.list(product, { states: ['published'] }).then((list) => newestFirst(list));
      // A failed lookup is not cached.
      value.catch(() => entries.delete(product));
      entries.set(product, { at: Date.now(), value });
      if (entries.size > 10000) entries.delete(entries.keys().next().value as string);
      return value;
    },
    invalidate(product: string): void {
      entries.delete(product);
    },
  };
}
