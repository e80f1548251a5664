import { LRUCache } from 'lru-cache';
import { entryBound } from '../../../../core/cache.js';
import type { Device } from '../../../../core/devices/types.js';
import type { DeviceRegistry } from '../../../../core/devices/device-registry.js';

/**
 * The SWUpdate general-module adapter's copy of device records (the DDI adapter keeps its own state in memory,
 * ../ddi/known-devices.ts). Reading the registry on every poll would cost a query each time, so records are cached for
 * a few seconds. The TTL is longer than the registry's
 * write-behind interval, and a local change restarts it, so a re-read never misses this process's own writes;
 * another replica's change is seen within the TTL.
 */
export function createSwupdateDeviceCache(registry: DeviceRegistry, ttlMs = 3000) {
  const cache = new LRUCache<string, Device>({ ...entryBound(50_000), ttl: ttlMs });
  // Devices registered by this process whose first check-in may not be written yet: their product, so a token
  // of another product cannot claim them in that window. Unknown devices are not cached otherwise.
  const claims = new LRUCache<string, string>({ ...entryBound(50_000), ttl: ttlMs });
  return {
    async get(id: string): Promise<Device | undefined> {
      const hit = cache.get(id);
      if (hit) return hit;
      const device = await registry.peek(id);
      if (device) cache.set(id, device);
      return device;
    },
    /** The product a device belongs to, including one registered here moments ago. */
    productOf: (id: string, device: Device | undefined): string | undefined =>
      device?.product ?? claims.get(id),
    claim: (id: string, product: string) => void claims.set(id, product),
    /** After this process changed the record: what later reads in the TTL see. */
    put(device: Device): void {
      cache.set(device.id, device);
    },
    /** Merges into the cached copy (the registry gets the same change through a check-in). */
    patch(id: string, change: Partial<Device>): void {
      const hit = cache.get(id);
      if (!hit) return void cache.delete(id);
      cache.set(id, { ...hit, ...change, attributes: { ...hit.attributes, ...change.attributes } });
    },
  };
}

export type SwupdateDeviceCache = ReturnType<typeof createSwupdateDeviceCache>;
