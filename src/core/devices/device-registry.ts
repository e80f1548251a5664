import { DomainError } from '../errors.js';
import { isoNow, systemClock, type Clock } from '../clock.js';
import { historyTrim, type PendingCheckIn } from './fold-check-ins.js';
import { PendingQueue } from './pending-queue.js';
import { createSnapshot } from '../cache.js';
import type { EventBus } from '../events/event-bus.js';
import type { DeviceRepository } from './ports.js';
import { noMetrics, type Metrics } from '../metrics/metrics.js';
import { unauditedLog, type AuditLog } from '../audit/audit-log.js';
import type { AuditContext } from '../audit/types.js';
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
  /** How long the check-in path may use its copy of the operator pins (a safety net under the bus), ms. */
  pinCacheTtlMs?: number;
  /** Carries a pin change to every replica. */
  bus?: EventBus;
  /** Write-behind flush times and the devices-per-version gauge (kept from these writes, not by scanning). */
  metrics?: Metrics;
  /** Pins and deletions with their audit record in one transaction; without it nothing is recorded. */
  audit?: Pick<AuditLog, 'withAudit'>;
}

/**
 * The device registry. Check-ins are the hottest write in the system (every device, every poll), so they are
 * not written one by one: they are buffered in memory, coalesced per device, and written in one transaction per
 * interval (ADR 0001). Reads of one device flush first, so an operator always sees the latest state.
 */
export function createDeviceRegistry(deps: DeviceRegistryDeps) {
  const { devices, clock = systemClock, metrics = noMetrics } = deps;
  const audit = deps.audit ?? unauditedLog({ devices });
  const historyLimit = deps.historyLimit ?? 100;
  const maxPending = deps.maxPending ?? 200_000;
  const chunkSize = 250;
  // Storage counts each written device's history and trims the long ones: nothing to count here, for any fleet.
  const trim = historyTrim(historyLimit);
  const checkIns = new PendingQueue<PendingCheckIn>(maxPending);
  const events = new PendingQueue<DeviceEvent>(maxPending);
  let timer: NodeJS.Timeout | undefined;
  const pins = createSnapshot<Map<string, { product: string | null; version: string }>>({
    name: 'pins',
    ttlMs: deps.pinCacheTtlMs ?? 2000,
    clock,
    bus: deps.bus,
    load: async () => new Map((await devices.listPins()).map((p) => [p.id, p])),
  });

  /** Writes one chunk: storage folds it into the stored rows with the core's rules (`foldCheckIns`). */
  async function writeChunk(batchCheckIns: PendingCheckIn[], batchEvents: DeviceEvent[]): Promise<void> {
    const moves = await devices.writeCheckIns({ checkIns: batchCheckIns, events: batchEvents, ...trim });
    // Counted only once written: a failed chunk is retried and its moves found again from the database.
    for (const [from, to] of moves) metrics.deviceMoved(from, to);
  }

  /**
   * Writes what is pending in chunks, one after another, yielding to the event loop between them. On
   * PostgreSQL and on a SQLite file the chunk's work runs elsewhere (the server, a worker thread); on an
   * in-memory SQLite database it is synchronous here, and one large transaction would stall every request (p99).
   */
  async function writePending(): Promise<void> {
    if (checkIns.length === 0 && events.length === 0) return;
    const started = performance.now();
    while (checkIns.length > 0 || events.length > 0) {
      const batchCheckIns = checkIns.take(chunkSize);
      const batchEvents = events.take(chunkSize);
      try {
        await writeChunk(batchCheckIns, batchEvents);
      } catch (err) {
        // Keep the records for the next attempt rather than lose them; bound what is kept.
        metrics.writeBehindDropped(checkIns.putBack(batchCheckIns) + events.putBack(batchEvents));
        throw err;
      }
      if (checkIns.length > 0 || events.length > 0) await new Promise((r) => setImmediate(r));
    }
    metrics.flushed((performance.now() - started) / 1000);
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
      if (checkIns.push({ ...checkIn, at: isoNow(clock) })) metrics.writeBehindDropped(1);
    },

    /** Records a download or other event for a device already known or checking in. */
    record(
      deviceId: string,
      kind: DeviceEventKind,
      version: string | null,
      detail: string | null = null,
    ): void {
      if (events.push({ deviceId, at: isoNow(clock), kind, version, detail })) metrics.writeBehindDropped(1);
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

    /**
     * Whether a device is known and the version it last reported, for device paths: reads the pending
     * check-ins first and the database only without flushing, so a hot path never forces a write (ADR 0001).
     * Undefined for a device never seen; `version: null` for a known device that never reported one.
     */
    async reported(id: string): Promise<{ version: string | null } | undefined> {
      // One pass from the newest: the newest check-in that names a version, noting any of the device's on the way
      // (before the read below: a flush during it takes them out of the queue).
      let pendingSeen = false;
      const newest = checkIns.findNewest((c) => {
        if (c.deviceId !== id) return false;
        pendingSeen = true;
        return !!c.version;
      });
      if (newest?.version) return { version: newest.version };
      const stored = await devices.get(id);
      if (stored) return { version: stored.version };
      return pendingSeen ? { version: null } : undefined;
    },

    async get(id: string): Promise<Device> {
      await flush();
      const device = await devices.get(id);
      if (!device) throw new DomainError('DEVICE_NOT_FOUND', `no device "${id}"`);
      return device;
    },

    /**
     * The operator pin of a device, for the check-in path: read from an in-memory copy of all pins, refreshed
     * dropped on every replica when a pin changes (and every `pinCacheTtlMs` regardless).
     */
    async pinOf(id: string): Promise<{ product: string | null; version: string } | undefined> {
      return (await pins.get()).get(id);
    },

    /**
     * The stored record without flushing first, for hot paths (a DDI poll reads the device's installed version):
     * it may lag this process's own pending check-ins by up to one flush interval.
     */
    peek(id: string): Promise<Device | undefined> {
      return devices.get(id);
    },

    /**
     * Changes a device's attributes beyond the merge a check-in does (hawkBit DDI `configData` modes `replace` and
     * `remove`): `keep` names attributes that `replace` leaves alone (ones Updraft itself writes).
     */
    async changeAttributes(
      id: string,
      change: {
        mode: 'merge' | 'replace' | 'remove';
        data: Record<string, string>;
        keep?: (key: string) => boolean;
        /** Merged after the change whatever the mode (the adapter's own bookkeeping). */
        also?: Record<string, string>;
      },
    ): Promise<Device> {
      // Inside the flush chain: a concurrent flush cannot write an older copy of this device in between.
      const run = chain.then(async () => {
        await writePending();
        const device = await devices.get(id);
        if (!device) throw new DomainError('DEVICE_NOT_FOUND', `no device "${id}"`);
        const attributes = { ...device.attributes };
        if (change.mode === 'replace') {
          for (const key of Object.keys(attributes)) if (!change.keep?.(key)) delete attributes[key];
        }
        if (change.mode === 'remove') for (const key of Object.keys(change.data)) delete attributes[key];
        else Object.assign(attributes, change.data);
        Object.assign(attributes, change.also);
        const updated = { ...device, attributes };
        await devices.saveBatch({ devices: [updated], events: [], checkInsByHour: new Map() });
        return updated;
      });
      chain = run.then(
        () => undefined,
        () => undefined,
      );
      return run;
    },

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

    async pin(by: AuditContext, id: string, version: string | null): Promise<void> {
      await flush();
      await audit.withAudit(
        by,
        version === null ? 'device.unpin' : 'device.pin',
        id,
        async (tx) => {
          if (!(await tx.devices.setPin(id, version)))
            throw new DomainError('DEVICE_NOT_FOUND', `no device "${id}"`);
        },
        () => (version === null ? null : { version }),
      );
      pins.invalidate();
    },

    async remove(by: AuditContext, id: string): Promise<void> {
      await flush();
      const existing = await audit.withAudit(
        by,
        'device.delete',
        id,
        async (tx) => {
          const found = await tx.devices.get(id);
          if (!found || !(await tx.devices.delete(id)))
            throw new DomainError('DEVICE_NOT_FOUND', `no device "${id}"`);
          return found;
        },
        (found) => ({ product: found.product, version: found.version }),
      );
      metrics.deviceMoved(existing, undefined);
      pins.invalidate();
    },

    /** Devices per product and running version, from one grouped query (start-up of the metrics gauge). */
    versionCounts: () => devices.versionCounts(),

    pendingCount: () => checkIns.length + events.length,
  };
}

export type DeviceRegistry = ReturnType<typeof createDeviceRegistry>;
