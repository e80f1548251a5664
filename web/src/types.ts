/** The management API's shapes, as the dashboard reads them (see /api/v1/openapi.json). */

export type ReleaseState = 'draft' | 'published' | 'revoked';

export interface Product {
  name: string;
  description: string;
  deviceFamily: string;
  hardwareClass: string | null;
  createdAt: string;
}

export interface Artifact {
  name: string;
  size: number;
  sha256: string;
  md5: string;
  contentType: string;
}

export interface Release {
  id: string;
  product: string;
  version: string;
  label: string | null;
  notes: string;
  state: ReleaseState;
  createdAt: string;
  publishedAt: string | null;
  revokedAt: string | null;
  artifacts: Artifact[];
}

export interface Device {
  id: string;
  product: string | null;
  version: string | null;
  firstSeen: string;
  lastSeen: string;
  lastUpdate: string | null;
  address: string | null;
  protocol: string | null;
  userAgent: string | null;
  lastOffered: string | null;
  lastOutcome: 'ok' | 'failed' | null;
  pinnedVersion: string | null;
  attributes: Record<string, string>;
}

export interface DeviceEvent {
  deviceId: string;
  at: string;
  kind: string;
  version: string | null;
  detail: string | null;
}

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
