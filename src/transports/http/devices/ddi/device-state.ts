import { LRUCache } from 'lru-cache';
import { entryBound } from '../../../../core/cache.js';
import type { Device } from '../../../../core/devices/types.js';
import type { DeviceRegistry } from '../../../../core/devices/device-registry.js';

/**
 * What the DDI adapter remembers per device lives in the device's attributes, so every replica sees it and it
 * survives restarts without a table of its own (docs/protocols/ddi.md):
 * - `ddi-action`: the action the device fetched and has not closed (`<id> <version> [<deployment>]`);
 * - `ddi-closed`: the id of the last action the device closed (success, failure, skip, cancel): never re-offered;
 * - `ddi-installed`: the last action that ended in success (`installedBase`);
 * - `ddi-config-at`: when the device last sent `configData` (until then the poll links `configData`).
 * An empty value means "none" (a check-in merges attributes; it cannot delete one).
 */
export const ATTR = {
  action: 'ddi-action',
  closed: 'ddi-closed',
  installed: 'ddi-installed',
  configAt: 'ddi-config-at',
} as const;

/** Attributes Updraft writes itself: configData `replace` keeps them, and devices may not set them. */
export const isOwnAttribute = (key: string): boolean => key === 'last-decision' || key.startsWith('ddi-');

export interface ActionRef {
  id: number;
  version: string;
  deploymentId?: string;
}

export function parseRef(value: string | undefined): ActionRef | undefined {
  const m = value ? /^(\d+) (\S+)(?: (\S+))?$/.exec(value) : null;
  if (!m) return undefined;
  return { id: Number(m[1]), version: m[2] as string, ...(m[3] ? { deploymentId: m[3] } : {}) };
}

export const formatRef = (r: ActionRef): string =>
  `${r.id} ${r.version}${r.deploymentId ? ` ${r.deploymentId}` : ''}`;

/**
 * The SWUpdate general-module adapter's copy of device records (the DDI adapter keeps its own state in memory,
 * known-devices.ts). Reading the registry on every poll would cost a query each time, so records are cached for
 * a few seconds. The TTL is longer than the registry's
 * write-behind interval, and a local change restarts it, so a re-read never misses this process's own writes;
 * another replica's change is seen within the TTL.
 */
export function createDdiDeviceCache(registry: DeviceRegistry, ttlMs = 3000) {
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

export type DdiDeviceCache = ReturnType<typeof createDdiDeviceCache>;
