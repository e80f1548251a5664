/** The management API's shapes, as the dashboard reads them (see /api/v1/openapi.json). */

// The dashboard reads the API's JSON; its shapes are the core's own types (type-only imports: nothing of the
// server is bundled).
export type { Artifact, Product, Release, ReleaseState } from '../../src/core/catalog/types.js';
export type { Device, DeviceEvent } from '../../src/core/devices/types.js';
export type {
  Counts,
  Deployment,
  DeploymentEvent,
  DeploymentSpec,
  DeviceState,
  DryRun,
} from '../../src/core/deployments/types.js';
export type { AuditEntry } from '../../src/core/audit/types.js';

export interface Page<T> {
  items: T[];
  total: number;
}

export interface Stats {
  total: number;
  byProductVersion: { product: string | null; version: string | null; count: number }[];
  checkInsPerHour: { hour: string; count: number }[];
}

/** A RIOT publish id (the seed server's store folder): `GET /api/v1/publish-ids`. */
export interface PublishId {
  publishId: string;
  files: { name: string; size: number; sha256: string }[];
  versions: string[];
}

/** One device's answer to `POST /notify`. */
export interface NotifyResult {
  device: string;
  status: 'ok' | 'error' | 'timeout';
  code?: string;
  message?: string;
}
