import type { CheckInBatch, DeviceMove } from './fold-check-ins.js';
import type { Device, DeviceEvent, DeviceQuery, DeviceStats } from './types.js';

export interface DeviceRepository {
  /**
   * The write-behind flush (ADR 0001): reads the batch's devices, folds the check-ins into them
   * (`foldCheckIns`), writes records, events and hourly counts in one transaction, then trims to
   * `historyLimit` the history of each device of the batch that holds more than `trimAbove` events. Resolves once written; returns the version moves written. An implementation may run this
   * off the event loop (SQLite: a worker thread with its own connection), so it must not block the caller.
   */
  writeCheckIns(batch: CheckInBatch): Promise<DeviceMove[]>;
  getMany(ids: string[]): Promise<Map<string, Device>>;
  /** Upserts the devices, appends the events and adds to the hourly check-in counters, in one transaction. */
  saveBatch(batch: {
    devices: Device[];
    events: DeviceEvent[];
    checkInsByHour: Map<string, number>;
  }): Promise<void>;
  get(id: string): Promise<Device | undefined>;
  list(query: DeviceQuery): Promise<{ items: Device[]; total: number }>;
  history(id: string, limit: number): Promise<DeviceEvent[]>;
  setPin(id: string, version: string | null): Promise<boolean>;
  /** Every pinned device: few in practice, so the hot path holds them all in memory. */
  listPins(): Promise<{ id: string; product: string | null; version: string }[]>;
  delete(id: string): Promise<boolean>;
  stats(since: string): Promise<DeviceStats>;
  /** Devices per product and running version: one grouped query, run once at start-up for the metrics. */
  versionCounts(): Promise<{ product: string | null; version: string | null; count: number }[]>;
  /** Keeps only the newest `keep` events of each of these devices. */
  pruneHistory(ids: string[], keep: number): Promise<void>;
}
