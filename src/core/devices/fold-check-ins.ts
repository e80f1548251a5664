import type { RunningVersion } from '../metrics/metrics.js';
import { applyCheckIn } from './apply-check-in.js';
import type { CheckIn, Device, DeviceEvent } from './types.js';

/** A check-in as the registry queued it: what the device reported and when. */
export type PendingCheckIn = CheckIn & { at: string };

/** A device whose running version changed in a write (for the devices-per-version gauge). */
export type DeviceMove = [from: RunningVersion | undefined, to: RunningVersion];

/** What one write-behind flush hands to storage (ADR 0001). */
export interface CheckInBatch {
  checkIns: PendingCheckIn[];
  /** Events recorded directly (downloads, deployment moves), appended as they are. */
  events: DeviceEvent[];
  /**
   * After the write, a device of the batch whose history holds more than `trimAbove` events is trimmed to the
   * newest `historyLimit`: trimmed now and then, not on every event (`historyTrim`).
   */
  historyLimit: number;
  trimAbove: number;
}

/** The history bound the registry asks of storage: `limit` events, trimmed once it exceeds a quarter more. */
export function historyTrim(limit: number): Pick<CheckInBatch, 'historyLimit' | 'trimAbove'> {
  return { historyLimit: limit, trimAbove: limit + Math.ceil(limit / 4) };
}

/**
 * Folds a batch of check-ins into the stored records of their devices (`known`, by id): the rules of
 * apply-check-in.ts, in order, so a device checking in twice in one batch is folded twice. Pure: every storage
 * implementation (in-thread, on a worker) runs this same function against the rows it read.
 */
export function foldCheckIns(
  known: Map<string, Device>,
  batch: Pick<CheckInBatch, 'checkIns' | 'events'>,
): { devices: Device[]; events: DeviceEvent[]; checkInsByHour: Map<string, number>; moves: DeviceMove[] } {
  const events: DeviceEvent[] = [];
  const checkInsByHour = new Map<string, number>();
  const moves: DeviceMove[] = [];
  const touched = new Set<string>();
  for (const c of batch.checkIns) {
    const before = known.get(c.deviceId);
    const { device, events: derived } = applyCheckIn(before, c, c.at);
    if (before?.product !== device.product || before?.version !== device.version) {
      moves.push([
        before && { product: before.product, version: before.version },
        { product: device.product, version: device.version },
      ]);
    }
    known.set(device.id, device);
    touched.add(device.id);
    for (const e of derived) events.push(e);
    const hour = c.at.slice(0, 13);
    checkInsByHour.set(hour, (checkInsByHour.get(hour) ?? 0) + 1);
  }
  for (const e of batch.events) events.push(e);
  const devices = [...touched].map((id) => known.get(id) as Device);
  return { devices, events, checkInsByHour, moves };
}
