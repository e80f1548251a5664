import { DomainError } from '../errors.js';
import { isoNow, systemClock, type Clock } from '../clock.js';
import { applyCheckIn } from './apply-check-in.js';
import type { DeviceRepository } from './ports.js';
import type { CheckIn, Device, DeviceEvent, DeviceEventKind, DeviceQuery } from './types.js';

export interface DeviceRegistryDeps {
  devices: DeviceRepository;
  clock?: Clock;
  /** Write-behind interval: pending check-ins reach the database at least this often (ms). */
  flushIntervalMs?: number;
  /** Events kept per device. */
  historyLimit?: number;
  /** Pending check-ins held while the database is unreachable before the oldest are dropped. */
  maxPending?: number;
  onFlushError?: (err: unknown) => void;
}

/**
 * The device registry. Check-ins are the hottest write in the system (every device, every poll), so they are
 * not written one by one: they are buffered in memory, coalesced per device, and written in one transaction per
 * interval (ADR 0001). Reads of one device flush first, so an operator always sees the latest state.
 */
export function createDeviceRegistry(deps: DeviceRegistryDeps) {
  const { devices, clock = systemClock } = deps;
  const historyLimit = deps.historyLimit ?? 100;
  const maxPending = deps.maxPending ?? 200_000;
  let checkIns: (CheckIn & { at: string })[] = [];
  let events: DeviceEvent[] = [];
  let timer: NodeJS.Timeout | undefined;

  async function writePending(): Promise<void> {
    if (checkIns.length === 0 && events.length === 0) return;
    const batchCheckIns = checkIns;
    const batchEvents = events;
    checkIns = [];
    events = [];
    try {
      const ids = [...new Set(batchCheckIns.map((c) => c.deviceId))];
      const known = await devices.getMany(ids);
      const outEvents: DeviceEvent[] = [];
      const checkInsByHour = new Map<string, number>();
      for (const c of batchCheckIns) {
        const { device, events: derived } = applyCheckIn(known.get(c.deviceId), c, c.at);
        known.set(device.id, device);
        outEvents.push(...derived);
        const hour = c.at.slice(0, 13);
        checkInsByHour.set(hour, (checkInsByHour.get(hour) ?? 0) + 1);
      }
      outEvents.push(...batchEvents);
      const touched = ids.map((id) => known.get(id)).filter((d): d is Device => d !== undefined);
      await devices.saveBatch({ devices: touched, events: outEvents, checkInsByHour });
      await devices.pruneHistory([...new Set(outEvents.map((e) => e.deviceId))], historyLimit);
    } catch (err) {
      // Keep the records for the next attempt rather than lose them; bound what is kept.
      checkIns = [...batchCheckIns, ...checkIns].slice(-maxPending);
      events = [...batchEvents, ...events].slice(-maxPending);
      throw err;
    }
  }

  // Flushes run one after another; a flush asked for during another starts right after it.
  let chain: Promise<void> = Promise.resolve();
  function flush(): Promise<void> {
    const run = chain.then(writePending);
    chain = run.catch(() => undefined);
    return run;
  }

  return {
    /** Records a check-in; returns at once. */
    checkIn(checkIn: CheckIn): void {
      if (checkIns.length >= maxPending) checkIns.shift();
      checkIns.push({ ...checkIn, at: isoNow(clock) });
    },

    /** Records a download or other event for a device already known or checking in. */
    record(
      deviceId: string,
      kind: DeviceEventKind,
      version: string | null,
      detail: string | null = null,
    ): void {
      if (events.length >= maxPending) events.shift();
      events.push({ deviceId, at: isoNow(clock), kind, version, detail });
    },

    flush,

    start(): void {
      if (timer) return;
      timer = setInterval(() => {
        flush().catch((err) => deps.onFlushError?.(err));
      }, deps.flushIntervalMs ?? 1000);
      timer.unref();
    },

    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await flush();
    },

    async get(id: string): Promise<Device> {
      await flush();
      const device = await devices.get(id);
      if (!device) throw new DomainError('DEVICE_NOT_FOUND', `no device "${id}"`);
      return device;
    },

    /** The stored record without flushing, for the hot path (pins); may lag by one interval. */
    peek: (id: string) => devices.get(id),

    async list(query: DeviceQuery) {
      await flush();
      return devices.list(query);
    },

    async history(id: string, limit = historyLimit) {
      await flush();
      return devices.history(id, limit);
    },

    async stats(hours: number) {
      await flush();
      return devices.stats(new Date(clock().getTime() - hours * 3600_000).toISOString());
    },

    async pin(id: string, version: string | null): Promise<void> {
      await flush();
      if (!(await devices.setPin(id, version)))
        throw new DomainError('DEVICE_NOT_FOUND', `no device "${id}"`);
    },

    async remove(id: string): Promise<void> {
      await flush();
      if (!(await devices.delete(id))) throw new DomainError('DEVICE_NOT_FOUND', `no device "${id}"`);
    },

    pendingCount: () => checkIns.length + events.length,
  };
}

export type DeviceRegistry = ReturnType<typeof createDeviceRegistry>;
