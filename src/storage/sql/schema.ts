import type { Generated } from 'kysely';

/** Table shapes shared by the SQLite and PostgreSQL implementations. Times are ISO-8601 UTC text. */
export interface Database {
  products: {
    name: string;
    description: string;
    device_family: string;
    hardware_class: string | null;
    settings: string;
    created_at: string;
  };
  releases: {
    id: string;
    product: string;
    version: string;
    label: string | null;
    notes: string;
    state: string;
    created_at: string;
    published_at: string | null;
    revoked_at: string | null;
  };
  artifacts: {
    release_id: string;
    name: string;
    position: number;
    size: number;
    sha256: string;
    md5: string;
    /** Added by migration 0003; null until the start-up backfill computed it. */
    sha1: string | null;
    content_type: string;
    /** 0007: the digest a device reports for the image (ESP32 app images), when it differs from sha256. */
    image_sha256: string | null;
  };
  devices: {
    id: string;
    product: string | null;
    version: string | null;
    first_seen: string;
    last_seen: string;
    last_update: string | null;
    address: string | null;
    protocol: string | null;
    user_agent: string | null;
    last_offered: string | null;
    last_outcome: string | null;
    pinned_version: string | null;
    attributes: string;
  };
  device_events: {
    id: Generated<number>;
    device_id: string;
    at: string;
    kind: string;
    version: string | null;
    detail: string | null;
  };
  check_in_counts: {
    hour: string;
    count: number;
  };
  tokens: {
    id: string;
    kind: string;
    name: string;
    hash: string;
    product: string | null;
    device: string | null;
    created_at: string;
  };
  settings: {
    key: string;
    value: string;
  };
  audit_log: {
    id: Generated<number>;
    at: string;
    actor_id: string | null;
    actor_name: string;
    address: string | null;
    action: string;
    target: string;
    detail: string | null;
  };
  device_tags: {
    device_id: string;
    tag: string;
  };
  device_groups: {
    name: string;
    kind: string;
    filter: string | null;
    members: string;
    created_at: string;
  };
  deployments: {
    id: string;
    product: string;
    version: string;
    state: string;
    current_wave: number;
    spec: string;
    wave_opened_at: string | null;
    soak_until: string | null;
    failure_base: number;
    halt_reason: string | null;
    created_at: string;
    updated_at: string;
  };
  deployment_devices: {
    deployment_id: string;
    device_id: string;
    wave: number;
    state: string;
    protocol: string | null;
    previous_version: string | null;
    offered_at: string | null;
    updated_at: string;
    reason: string | null;
  };
  deployment_counts: {
    deployment_id: string;
    wave: number;
    state: string;
    count: number;
  };
  deployment_events: {
    id: Generated<number>;
    deployment_id: string;
    device_id: string | null;
    at: string;
    kind: string;
    detail: string | null;
  };
  blob_holds: {
    upload_id: string;
    sha256: string;
    expires_at: string;
  };
  blob_gc: {
    sha256: string;
    orphan_since: string | null;
    deleting_since: string | null;
  };
}
