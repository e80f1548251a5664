import { compareVersions } from '../versions/compare.js';
import type { CheckIn, Device, DeviceEvent } from './types.js';

/**
 * Folds one check-in into a device record: the pure part of the registry, so every storage backend gets the
 * same rules. Returns the new record and the events it implies (an update detected, an offer made).
 */
export function applyCheckIn(
  previous: Device | undefined,
  checkIn: CheckIn,
  at: string,
): { device: Device; events: DeviceEvent[] } {
  const events: DeviceEvent[] = [];
  const event = (kind: DeviceEvent['kind'], version: string | null, detail: string | null = null) =>
    events.push({ deviceId: checkIn.deviceId, at, kind, version, detail });

  const device: Device = previous
    ? { ...previous, attributes: { ...previous.attributes } }
    : {
        id: checkIn.deviceId,
        product: null,
        version: null,
        firstSeen: at,
        lastSeen: at,
        lastUpdate: null,
        address: null,
        protocol: null,
        userAgent: null,
        lastOffered: null,
        lastOutcome: null,
        pinnedVersion: null,
        attributes: {},
      };

  // Before lastSeen moves on: whether this check-in goes into the history (see checkInIsNews).
  const news = checkInIsNews(previous, checkIn, at);
  device.lastSeen = at;
  if (checkIn.product) device.product = checkIn.product;
  // A dual-stack socket reports IPv4 peers as `::ffff:a.b.c.d`; the registry shows them as plain IPv4.
  if (checkIn.address) device.address = checkIn.address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  device.protocol = checkIn.protocol;
  if (checkIn.userAgent) device.userAgent = checkIn.userAgent;
  if (checkIn.attributes) Object.assign(device.attributes, checkIn.attributes);
  if (news) event('check-in', checkIn.version ?? null, checkIn.protocol);

  if (checkIn.version && checkIn.version !== device.version) {
    const wasKnown = device.version !== null;
    device.version = checkIn.version;
    // Only a report of the offered version is a known success; any other change was not ours to judge.
    // Offers record the normalised version (`1.0.1`), devices report their spelling (`v1.0.1`).
    const offered = device.lastOffered !== null && compareVersions(device.lastOffered, checkIn.version) === 0;
    // A device whose first version is the one it was offered (hawkBit DDI: no version before closed/success)
    // was updated by us too.
    if (wasKnown || offered) {
      device.lastUpdate = at;
      device.lastOutcome = offered ? 'ok' : null;
      event('updated', checkIn.version, offered ? 'to the offered release' : null);
    }
  }
  if (checkIn.offered && checkIn.offered !== device.lastOffered) {
    device.lastOffered = checkIn.offered;
    device.lastOutcome = null;
    event('offered', checkIn.offered);
  }
  return { device, events };
}

/**
 * Whether a check-in is worth a history row: a device's first, the first of each clock hour (UTC), and one that
 * reports a different version or comes over another protocol. The others only move `lastSeen` (and count in
 * the hourly check-in figures). A fleet polling every 5 minutes would otherwise write 12 history rows an hour
 * per device that say nothing `lastSeen` does not, and trim them again (docs/adr/0001-write-behind-check-ins.md).
 */
function checkInIsNews(previous: Device | undefined, checkIn: CheckIn, at: string): boolean {
  if (previous === undefined) return true;
  if (previous.lastSeen.slice(0, 13) !== at.slice(0, 13)) return true;
  if (checkIn.version && checkIn.version !== previous.version) return true;
  return checkIn.protocol !== previous.protocol;
}
