/**
 * What the CoAP catalog resources need to know about products, kept cheap for the per-block path:
 *
 * - `product(name)`: products by name, cached for `ttlMs` (like the core's cache of published releases), so a
 *   65 536-block transfer does not query the database 65 536 times. Release events of the product drop its
 *   entry at once, and so does a product change made through any replica (the `products` invalidation on the
 *   events bus).
 * - `listing()`: for `/.well-known/core`, whose `instances()` is synchronous: each product with its newest
 *   published release, refreshed on every release event and, when older than `listingMaxAgeMs`, in the
 *   background of the request that finds it stale (changes made through another replica).
 */
import type { Product, Release } from '../../../core/catalog/types.js';
import type { Services } from '../../../core/services.js';
import { createLoadingCache } from '../../../core/cache.js';
import { systemClock, type Clock } from '../../../core/clock.js';

export interface ListedProduct {
  readonly product: Product;
  /** Newest published release, undefined when there is none. */
  readonly newest: Release | undefined;
}

export interface CatalogViewOptions {
  readonly ttlMs?: number;
  readonly listingMaxAgeMs?: number;
  /** Products listed in /.well-known/core at most (the listing stays bounded). */
  readonly maxListedProducts?: number;
  readonly clock?: Clock;
}

export function createCatalogView(
  services: Pick<Services, 'products' | 'releases'> & Partial<Pick<Services, 'events'>>,
  options: CatalogViewOptions = {},
) {
  const clock = options.clock ?? systemClock;
  const now = (): number => clock().getTime();
  const ttlMs = options.ttlMs ?? 2000;
  const listingMaxAgeMs = options.listingMaxAgeMs ?? 10_000;
  const maxListed = options.maxListedProducts ?? 1000;
  const products = createLoadingCache<Product>({
    name: 'products',
    ttlMs,
    clock,
    bus: services.events,
    load: (name) => services.products.find(name),
  });
  let listed = new Map<string, ListedProduct>();
  let listedAt = 0;
  let refreshing: Promise<void> | undefined;
  // A product refreshed by an event while a full refresh runs keeps the event's (newer) state.
  let epoch = 0;
  const refreshedAt = new Map<string, number>();

  const product = (name: string): Promise<Product | undefined> => products.get(name);

  async function entryOf(name: string): Promise<ListedProduct | undefined> {
    const p = await services.products.find(name);
    if (!p) return undefined;
    return { product: p, newest: (await services.releases.listPublished(name))[0] };
  }

  async function refreshAll(): Promise<void> {
    const started = epoch;
    const next = new Map<string, ListedProduct>();
    for (const p of (await services.products.list()).slice(0, maxListed)) {
      next.set(p.name, { product: p, newest: (await services.releases.listPublished(p.name))[0] });
    }
    for (const [name, at] of refreshedAt) {
      if (at <= started) continue;
      const current = listed.get(name);
      if (current) next.set(name, current);
      else next.delete(name);
    }
    refreshedAt.clear();
    listed = next;
    listedAt = now();
  }

  function startRefresh(): Promise<void> {
    refreshing ??= refreshAll()
      .catch(() => undefined)
      .finally(() => (refreshing = undefined));
    return refreshing;
  }

  return {
    product,
    /** The cached product, or undefined when `product` would have to load it (the per-block path, no promise). */
    productCached: (name: string): Product | undefined => products.peek(name),

    /** The current listing; starts a background refresh when it is stale. Never waits. */
    listing(): Iterable<ListedProduct> {
      if (now() - listedAt > listingMaxAgeMs) void startRefresh();
      return listed.values();
    },

    /** Loads the whole listing (at start). */
    load: startRefresh,

    /**
     * Re-reads one product after a release event and returns its listing before and after, for the caller to
     * tell whether its latest resources changed.
     */
    async refreshProduct(
      name: string,
    ): Promise<{ before: ListedProduct | undefined; after: ListedProduct | undefined }> {
      products.drop(name);
      const before = listed.get(name);
      const after = await entryOf(name);
      // Copy on write: a listing being iterated by a request is never modified under it.
      const next = new Map(listed);
      if (after) {
        if (next.has(name) || next.size < maxListed) next.set(name, after);
      } else {
        next.delete(name);
      }
      listed = next;
      refreshedAt.set(name, ++epoch);
      return { before, after };
    },
  };
}

export type CatalogView = ReturnType<typeof createCatalogView>;
