export interface Device {
  /** A MAC in lowercase colon form (`aa:bb:cc:dd:ee:ff`), or the id a protocol gives. */
  id: string;
  product: string | null;
  version: string | null;
  firstSeen: string;
  lastSeen: string;
  /** When the reported version last changed. */
  lastUpdate: string | null;
  address: string | null;
  protocol: string | null;
  userAgent: string | null;
  /** `<version>` of the release last offered to the device. */
  lastOffered: string | null;
  /** `ok` when the device came back on the offered version, `failed` when it came back on another one. */
  lastOutcome: 'ok' | 'failed' | null;
  /** An operator pin: the device gets exactly this version, lower ones included. */
  pinnedVersion: string | null;
  /** Protocol-specific facts (chip id, free space, SDK version...). */
  attributes: Record<string, string>;
}

export type DeviceEventKind =
  | 'check-in'
  | 'offered'
  | 'download-started'
  | 'download-completed'
  | 'download-failed'
  | 'updated'
  /** A deployment moved the device (offered, succeeded, failed...; the detail names the deployment). */
  | 'deployment';

export interface DeviceEvent {
  deviceId: string;
  at: string;
  kind: DeviceEventKind;
  version: string | null;
  detail: string | null;
}

/** What a protocol adapter learned from one request. */
export interface CheckIn {
  deviceId: string;
  product?: string;
  version?: string;
  address?: string;
  protocol: string;
  userAgent?: string;
  attributes?: Record<string, string>;
  /** The version offered in the answer to this check-in, if any. */
  offered?: string;
}

export interface DeviceQuery {
  product?: string;
  version?: string;
  /** Full-text-ish filter on id and address. */
  search?: string;
  seenAfter?: string;
  seenBefore?: string;
  sort?: 'id' | 'product' | 'version' | 'lastSeen' | 'lastUpdate' | 'firstSeen';
  order?: 'asc' | 'desc';
  limit: number;
  offset: number;
}

export interface DeviceStats {
  total: number;
  byProductVersion: { product: string | null; version: string | null; count: number }[];
  /** Check-ins per hour over the window asked for, oldest first. */
  checkInsPerHour: { hour: string; count: number }[];
}
