import type { DeploymentEvent, DeploymentState, DeviceState, Strategy } from './types.js';

/** The strategy as stored: the same fields, fixed at creation. */
export type StoredSpec = Strategy;

export interface DeploymentRow {
  id: string;
  product: string;
  version: string;
  state: DeploymentState;
  currentWave: number;
  spec: StoredSpec;
  waveOpenedAt: string | null;
  soakUntil: string | null;
  /** Failures at the last resume: the threshold counts only those after it. */
  failureBase: number;
  haltReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface DeviceRow {
  deploymentId: string;
  deviceId: string;
  wave: number;
  state: DeviceState;
  protocol: string | null;
  previousVersion: string | null;
  offeredAt: string | null;
  updatedAt: string;
  reason: string | null;
}

export interface DeviceMove {
  deploymentId: string;
  deviceId: string;
  wave: number;
  /** `pending` also covers a device not yet in the deployment (a late joiner of a dynamic target). */
  from: DeviceState;
  to: DeviceState;
  at: string;
  protocol?: string | null;
  previousVersion?: string | null;
  offeredAt?: string | null;
  reason?: string | null;
}

export interface DeploymentPatch {
  state?: DeploymentState;
  currentWave?: number;
  waveOpenedAt?: string | null;
  soakUntil?: string | null;
  failureBase?: number;
  haltReason?: string | null;
  updatedAt: string;
}

export interface DeploymentRepository {
  /** The deployment, its pending members and their counters, and a `created` event, in one transaction. */
  create(
    row: DeploymentRow,
    members: { deviceId: string; wave: number; protocol: string | null }[],
  ): Promise<void>;
  get(id: string): Promise<DeploymentRow | undefined>;
  list(filter?: { product?: string; states?: DeploymentState[] }): Promise<DeploymentRow[]>;
  /** The maintained counters (no scan of the members). */
  counts(id: string): Promise<{ wave: number; state: DeviceState; count: number }[]>;
  /**
   * Applies `patch` only if the deployment is still in `expected` (a conditional UPDATE): of two processes
   * advancing the same wave, exactly one succeeds. Records the event with it.
   */
  advance(
    id: string,
    expected: { state: DeploymentState; currentWave: number },
    patch: DeploymentPatch,
    event: { kind: string; detail: string | null },
  ): Promise<boolean>;
  /**
   * Moves one device from `from` to `to` if it is still in `from`, adjusting the counters and recording the
   * event in the same transaction: `moved`, `joined` (a pending late joiner, new to the deployment), or
   * undefined when another process moved it first.
   */
  moveDevice(move: DeviceMove, detail: string | null): Promise<'moved' | 'joined' | undefined>;
  device(id: string, deviceId: string): Promise<DeviceRow | undefined>;
  /** Every member not pending, for the in-memory copy of active deployments. */
  touched(id: string): Promise<DeviceRow[]>;
  /** Members of `wave` in `states` whose `offeredAt` (or, for pending ones, any time) is before `before`. */
  stale(
    id: string,
    states: DeviceState[],
    before: string | null,
    wave: number | null,
    limit: number,
  ): Promise<DeviceRow[]>;
  /** Devices of a product in id order after `afterId` (keyset paging), for matching a target at creation. */
  scanDevices(product: string, afterId: string, limit: number): Promise<ScannedDevice[]>;
  events(
    id: string,
    options: { limit: number; afterId?: number; deviceId?: string },
  ): Promise<DeploymentEvent[]>;
}

export interface ScannedDevice {
  id: string;
  version: string | null;
  lastSeen: string;
  protocol: string | null;
  attributes: Record<string, string>;
}
