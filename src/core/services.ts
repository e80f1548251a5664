import type { ProductService } from './catalog/product-service.js';
import type { ReleaseService } from './catalog/release-service.js';
import type { ReleaseEvents } from './catalog/release-events.js';
import type { DeviceRegistry } from './devices/device-registry.js';
import type { SettingsRepository } from './settings.js';
import type { TokenService } from './tokens/token-service.js';
import type { UpdateService } from './updates/update-service.js';
import type { Metrics } from './metrics/metrics.js';
import type { AuditLog } from './audit/audit-log.js';
import type { DeploymentService } from './deployments/deployment-service.js';
import type { GroupService } from './groups/group-service.js';
import type { EventBus } from './events/event-bus.js';

/** What the composition root hands to every transport: use cases only, never a store. */
export interface Services {
  products: ProductService;
  releases: ReleaseService;
  releaseEvents: ReleaseEvents;
  devices: DeviceRegistry;
  updates: UpdateService;
  tokens: TokenService;
  settings: SettingsRepository;
  /** Where transports report requests, bytes and downloads (Prometheus in app/, nothing in unit tests). */
  metrics: Metrics;
  /** Management actions, newest first (each written in its action's transaction). */
  audit: AuditLog;
  /** Staged rollouts (docs/deployments.md). */
  deployments: DeploymentService;
  /** Device tags and groups. */
  groups: GroupService;
  /** Cache invalidations and release events, to and from every replica. */
  events: EventBus;
  /** Throws NOT_READY when the database or blob store is unusable. */
  readiness(): Promise<void>;
}
