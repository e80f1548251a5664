import type { ProductRepository, ReleaseRepository } from '../catalog/ports.js';
import type { DeviceRepository } from '../devices/ports.js';
import type { SettingsRepository } from '../settings.js';
import type { TokenRepository } from '../tokens/types.js';
import type { DeploymentRepository } from '../deployments/ports.js';
import type { GroupRepository, TagRepository } from '../groups/types.js';

/**
 * Who acted: the admin token (its id and name), the server itself (`system`), or the fallback of an HTTP scope
 * that lets a request in without a token (`riot-seed`).
 */
export interface Actor {
  /** The token's id; `config` for the token given by configuration; null for the server itself. */
  id: string | null;
  name: string;
}

/** What the transport knows about the caller: passed to every audited service method, recorded with the action. */
export interface AuditContext {
  actor: Actor;
  /** The client's address (HTTP peer, after any trusted proxy handling); null for the server itself. */
  address: string | null;
}

export interface AuditEntry {
  /** Increasing; the paging cursor. */
  id: number;
  at: string;
  actor: Actor;
  address: string | null;
  /** `release.publish`, `token.create`... (docs/audit.md lists them). */
  action: string;
  /** `product`, `product@version`, a device id, a token id. */
  target: string;
  /** What else the action changed (a pin's version, a token's kind and name); never a secret. */
  detail: Record<string, unknown> | null;
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>;

export interface AuditQuery {
  /** A token name or id. */
  actor?: string;
  /** An action (`release.publish`) or a prefix of one (`release`). */
  action?: string;
  /** A target, or a product: `sensor` also finds `sensor@1.2.0`. */
  target?: string;
  since?: string;
  until?: string;
  limit: number;
  /** Entries older than this id (the `next` of the previous page). */
  before?: number;
}

export interface AuditRepository {
  record(entry: NewAuditEntry): Promise<void>;
  /** Newest first. */
  list(query: AuditQuery): Promise<AuditEntry[]>;
}

/** The repositories a management action may change, all bound to one database transaction. */
export interface TransactionStores {
  products: ProductRepository;
  releases: ReleaseRepository;
  devices: DeviceRepository;
  tokens: TokenRepository;
  settings: SettingsRepository;
  deployments: DeploymentRepository;
  groups: GroupRepository;
  tags: TagRepository;
  audit: AuditRepository;
}

/**
 * The unit-of-work port: runs `work` in one transaction and commits only if it resolves (and its audit record
 * was written); a throw anywhere rolls back the change and the record together.
 */
export interface UnitOfWork {
  run<T>(work: (tx: TransactionStores) => Promise<T>): Promise<T>;
}
