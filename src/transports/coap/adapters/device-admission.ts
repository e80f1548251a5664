import { LRUCache } from 'lru-cache';
import { entryBound } from '../../../core/cache.js';
import { createRateLimiter } from '../../../core/rate-limit.js';
import type { Peer } from '../message.js';
import { deviceIdOf } from './artifact-body.js';

/**
 * CoAP devices are known by their address only, and a UDP source is trivially spoofed: 2,000 datagrams from
 * 2,000 addresses made 2,000 device records (issue 13, defect 13). Addresses already admitted keep their
 * record; a new address gets one only within `newPerMinute` (burst the same), otherwise its request is served
 * anonymously (nothing recorded). A real device that missed the budget is admitted on a later request.
 */
export function createDeviceAdmission(newPerMinute: number, maxKnown = 100_000) {
  const known = new LRUCache<string, true>(entryBound(maxKnown));
  const limiter = createRateLimiter({ burst: Math.max(1, newPerMinute), perSecond: newPerMinute / 60 });
  return (peer: Peer): string | undefined => {
    const id = deviceIdOf(peer);
    if (known.get(id)) return id;
    if (newPerMinute <= 0 || !limiter.take('new')) return undefined;
    known.set(id, true);
    return id;
  };
}

export type DeviceAdmission = ReturnType<typeof createDeviceAdmission>;
