import { LRUCache } from 'lru-cache';
import { createLoadingCache, entryBound } from '../../../../core/cache.js';
import type { EventBus } from '../../../../core/events/event-bus.js';
import type { Device } from '../../../../core/devices/types.js';
import type { DeviceRegistry } from '../../../../core/devices/device-registry.js';
import { ATTR, parseRef, type ActionRef } from './device-state.js';

/** What a DDI answer needs of a device record (device-state.ts names the attributes), parsed once per load. */
export interface DdiDevice {
  product: string | null;
  /** Learnt from the last `closed/success` (DDI polls carry no version). */
  version: string | null;
  /** The action the device fetched and has not closed. */
  action?: ActionRef;
  /** The last action it closed: never offered again. */
  closed?: number;
  /** The last action that ended in success (`installedBase`). */
  installed?: ActionRef;
  /** Whether it sent `configData` once (until then the poll links it). */
  configured: boolean;
}

export function ddiDeviceOf(device: Device): DdiDevice {
  const closed = Number(device.attributes[ATTR.closed] ?? NaN);
  const action = parseRef(device.attributes[ATTR.action]);
  const installed = parseRef(device.attributes[ATTR.installed]);
  return {
    product: device.product,
    version: device.version,
    ...(action ? { action } : {}),
    ...(Number.isInteger(closed) ? { closed } : {}),
    ...(installed ? { installed } : {}),
    configured: Boolean(device.attributes[ATTR.configAt]),
  };
}

export interface KnownDevicesOptions {
  /** Safety net under the bus, ms: ten minutes, twice the default poll interval, so idle polls hit memory. */
  ttlMs?: number;
  max?: number;
}

/**
 * The DDI state of the devices this process has seen, held in memory so that a poll with nothing to do costs no
 * query (a fleet polls every five minutes: a cache shorter than that would read the database on every poll).
 *
 * Every DDI state change is written at once (`changeAttributes`, never the write-behind batch) and then
 * announced with `changed(id)`: this process drops its copy, and every other replica too through the events bus
 * (`devices` family, key = device id; PostgreSQL NOTIFY, or the cluster primary's relay), so the next request
 * anywhere reads the new record. A load in flight when the message arrives is not kept (cache.ts), and a bus
 * that may have missed messages delivers `*`, which drops everything; the TTL is only a safety net.
 * A pin or a deletion of a device drops every copy too: the registry announces both as `pins`, and a deleted
 * device must not keep its old DDI state here once it registers again.
 */
export function createKnownDevices(
  registry: Pick<DeviceRegistry, 'peek'>,
  bus: Pick<EventBus, 'publish' | 'subscribe'>,
  { ttlMs = 10 * 60_000, max = 100_000 }: KnownDevicesOptions = {},
) {
  const cache = createLoadingCache<DdiDevice>({
    name: 'devices',
    ttlMs,
    max,
    bus,
    load: async (id) => {
      const device = await registry.peek(id);
      return device ? ddiDeviceOf(device) : undefined;
    },
  });
  const unsubscribe = bus.subscribe((message) => {
    if (message.kind === 'invalidate' && message.cache === 'pins') cache.drop();
  });
  // Devices registered by this process whose first check-in may not be written yet: their product, so a token
  // of another product cannot claim them in that window (an unknown device is not kept in `cache`).
  const claims = new LRUCache<string, string>({ ...entryBound(50_000), ttl: 3000 });
  return {
    get: (id: string): Promise<DdiDevice | undefined> => cache.get(id),
    /** The product a device belongs to, including one registered here moments ago. */
    productOf: (id: string, device: DdiDevice | undefined): string | undefined =>
      device?.product ?? claims.get(id),
    claim: (id: string, product: string) => void claims.set(id, product),
    /** After a write of the device's DDI state has reached the database: every replica reads it again. */
    changed: (id: string): void => cache.invalidate(id),
    close(): void {
      unsubscribe();
      cache.close();
    },
  };
}

export type KnownDevices = ReturnType<typeof createKnownDevices>;
