import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Services } from '../core/services.js';
import type { BlobStore } from '../core/blobs/blob-store.js';
import { DomainError } from '../core/errors.js';
import { createProductService } from '../core/catalog/product-service.js';
import { createReleaseService } from '../core/catalog/release-service.js';
import { createReleaseEvents } from '../core/catalog/release-events.js';
import { createDeviceRegistry } from '../core/devices/device-registry.js';
import { createUpdateService } from '../core/updates/update-service.js';
import { createTokenService } from '../core/tokens/token-service.js';
import { createDeploymentService } from '../core/deployments/deployment-service.js';
import { createGroupService } from '../core/groups/group-service.js';
import { createSqlDeploymentRepository } from '../storage/sql/deployment-repository.js';
import { createSqlGroupRepository, createSqlTagRepository } from '../storage/sql/group-repository.js';
import { runBlobGc, type BlobGcReport } from '../core/blobs/blob-gc.js';
import { createSqlBlobGcRepository } from '../storage/sql/blob-gc-repository.js';
import { openBlobStore } from './blob-store.js';
import { ownHosts } from './own-hosts.js';
import { migrate, openDatabase, type SqlConnection } from '../storage/sql/connection.js';
import {
  createSqlProductRepository,
  createSqlReleaseRepository,
} from '../storage/sql/catalog-repositories.js';
import { createSqlDeviceRepository } from '../storage/sql/device-repository.js';
import { createSqlTokenRepository } from '../storage/sql/token-repository.js';
import { createSqlSettingsRepository } from '../storage/sql/settings-repository.js';
import { createSigningProcessors } from '../core/signing/index.js';
import { openKeyStore } from './keys.js';
import { sql } from 'kysely';
import { backfillSha1 } from '../storage/sql/backfill-sha1.js';
import { createLocalEventBus, type EventBus } from '../core/events/event-bus.js';
import { createPgEventBus } from '../storage/sql/pg-event-bus.js';
import { clusterRelay } from './cluster.js';
import { noMetrics, type Metrics } from '../core/metrics/metrics.js';
import { createAuditLog } from '../core/audit/audit-log.js';
import { createSqlUnitOfWork } from '../storage/sql/unit-of-work.js';
import { createSqlAuditRepository } from '../storage/sql/audit-repository.js';

export interface Storage {
  connection: SqlConnection;
  blobs: BlobStore;
  /** Cache invalidations and release events: LISTEN/NOTIFY on PostgreSQL, this process (and its cluster siblings) on SQLite. */
  events: EventBus;
}

/** On PostgreSQL every replica hears every other's invalidations; on SQLite the cluster primary relays them. */
async function openEventBus(connection: SqlConnection, url: string, logger: Logger): Promise<EventBus> {
  if (connection.dialect === 'postgres') {
    return createPgEventBus({
      url,
      db: connection.db,
      onError: (err, what) => logger.warn({ err }, what),
    });
  }
  const relay = clusterRelay();
  const bus = createLocalEventBus(relay?.send);
  relay?.onMessage(bus.receive);
  return bus;
}

/**
 * Opens the database (migrating it) and the blob store, and sweeps what a crash may have left. Cluster workers
 * pass `sweep: false`: the primary swept before forking, and a sweep in one worker would delete another's upload
 * in progress.
 */
export async function openStorage(
  config: Config,
  logger: Logger,
  { sweep = true, metrics = noMetrics }: { sweep?: boolean; metrics?: Metrics } = {},
): Promise<Storage> {
  const connection = await openDatabase(config.databaseUrl);
  if (sweep) await migrate(connection);
  const blobs = await openBlobStore(config, metrics.blobCache);
  const events = await openEventBus(connection, config.databaseUrl, logger);
  if (!sweep) return { connection, blobs, events };
  // Migration 0003 cannot read blobs: artifacts stored before it get their SHA-1 (hawkBit DDI) here.
  const sha1 = await backfillSha1(connection.db, blobs);
  if (sha1.filled) logger.info({ artifacts: sha1.filled }, 'computed SHA-1 for artifacts stored before 0003');
  if (sha1.missing.length) logger.warn({ blobs: sha1.missing }, 'no blob to compute a SHA-1 from');
  // A data folder is this process's alone at start-up (SQLite is one server): every temporary file is a crash's.
  // A bucket, or a folder shared by PostgreSQL replicas, may hold another replica's upload in progress, so only
  // old temporary objects go. Orphaned blobs are left to garbage collection (its grace period).
  // An object store that is unreachable or refuses the credentials does not stop the start: the error is logged,
  // /readyz answers 503 with it, and the server recovers when the store does.
  const shared = Boolean(config.blobStore) || connection.dialect === 'postgres';
  const swept = await blobs
    .sweepIncomplete(shared ? config.blobIncompleteAfterMs : undefined)
    .catch((err: unknown) => {
      if (!config.blobStore) throw err;
      logger.error({ err }, `blob store ${config.blobStore} is not usable: ${(err as Error).message}`);
      return 0;
    });
  if (swept) logger.warn({ files: swept }, 'removed incomplete uploads left by an earlier crash');
  return { connection, blobs, events };
}

/**
 * One pass of blob garbage collection (docs/storage.md): the app runs it on a timer on one process; with several
 * replicas, on the leader only. Never deletes a blob a release or an upload in progress uses.
 */
export function createBlobGc(config: Config, storage: Storage, logger: Logger) {
  const repository = createSqlBlobGcRepository(storage.connection.db);
  return async (now: Date = new Date()): Promise<BlobGcReport> => {
    const report = await runBlobGc(
      {
        blobs: storage.blobs,
        repository,
        graceMs: config.blobGcGraceMs,
        incompleteAfterMs: config.blobIncompleteAfterMs,
        onError: (err, sha256) => logger.error({ err, sha256 }, 'garbage collection could not delete a blob'),
      },
      now,
    );
    if (report.deleted || report.swept || report.orphaned)
      logger.info({ ...report }, 'blob garbage collection');
    return report;
  };
}

/** The composition of the core's use cases over the storage implementations. */
export function createServices(
  config: Config,
  storage: Storage,
  logger: Logger,
  metrics: Metrics = noMetrics,
): Services {
  const { db, dialect } = storage.connection;
  const products = createSqlProductRepository(db);
  const releaseRepo = createSqlReleaseRepository(db);
  const settings = createSqlSettingsRepository(db);
  const bus = storage.events;
  const releaseEvents = createReleaseEvents(bus);
  // Every management action and its audit record share one transaction (docs/adr/0004-audit.md).
  const audit = createAuditLog({
    unitOfWork: createSqlUnitOfWork(db, dialect),
    entries: createSqlAuditRepository(db),
  });
  const productService = createProductService({ products, releases: releaseRepo, bus, audit });
  const releases = createReleaseService({
    products,
    releases: releaseRepo,
    blobs: storage.blobs,
    events: releaseEvents,
    bus,
    audit,
    maxUploadBytes: config.maxUploadBytes,
    holds: { repository: createSqlBlobGcRepository(db) },
    onBlobMissing: (artifact, err) =>
      logger.error(
        { err, artifact: artifact.name, sha256: artifact.sha256 },
        "BLOB MISSING: an artifact's stored content is not in the blob store; its downloads fail until it is re-uploaded",
      ),
    processors: createSigningProcessors({
      keys: openKeyStore(config),
      settings,
      blobs: storage.blobs,
      coapPublicUrl: config.coapPublicUrl,
      ownHosts,
    }),
  });
  const devices = createDeviceRegistry({
    devices: createSqlDeviceRepository(db, dialect, storage.connection.checkInWriter),
    flushIntervalMs: config.flushIntervalMs,
    bus,
    metrics,
    audit,
    onFlushError: (err) => logger.error({ err }, 'device records could not be written; will retry'),
  });
  const deploymentRepo = createSqlDeploymentRepository(db);
  const groups = createGroupService({
    groups: createSqlGroupRepository(db),
    tags: createSqlTagRepository(db),
    inUse: (group) => deployments.targetsGroup(group),
    audit,
  });
  const deployments = createDeploymentService({
    repo: deploymentRepo,
    groups,
    releases,
    products: productService,
    history: devices,
    onError: (err) => logger.error({ err }, 'deployment step failed; will retry'),
    audit,
  });
  shareDeploymentChanges(bus, deployments, groups);
  return {
    products: productService,
    releases,
    releaseEvents,
    devices,
    deployments,
    groups,
    updates: createUpdateService({
      releases,
      products: productService,
      registry: devices,
      deployments,
      metrics,
    }),
    tokens: createTokenService({
      tokens: createSqlTokenRepository(db),
      configuredAdminToken: config.adminToken || undefined,
      bus,
      audit,
    }),
    settings,
    events: bus,
    metrics,
    audit,
    async readiness() {
      try {
        await sql`select 1`.execute(db);
        await storage.blobs.check();
      } catch (err) {
        throw new DomainError('NOT_READY', `storage is not usable: ${(err as Error).message}`);
      }
    },
  };
}

/**
 * Deployments and groups are held in memory by every replica (a check-in costs no query): a deployment-level or
 * group/tag change made here is announced on the bus, and one announced by another replica drops the in-memory
 * copy, which the next use reloads. This process's own announcements are delivered to it synchronously and are
 * skipped: its copy is already current.
 */
function shareDeploymentChanges(
  bus: EventBus,
  deployments: { events: NodeJS.EventEmitter; invalidate(): void },
  groups: { events: NodeJS.EventEmitter; invalidate(): void },
): void {
  let announcing = false;
  const announce = (cache: string) => {
    announcing = true;
    try {
      bus.publish({ kind: 'invalidate', cache });
    } finally {
      announcing = false;
    }
  };
  deployments.events.on('deployment-changed', () => announce('deployments'));
  groups.events.on('changed', () => announce('groups'));
  bus.subscribe((message) => {
    if (announcing || message.kind !== 'invalidate') return;
    if (message.cache === 'deployments' || message.cache === '*') deployments.invalidate();
    if (message.cache === 'groups' || message.cache === '*') groups.invalidate();
  });
}
