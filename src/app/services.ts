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
import { createFsBlobStore } from '../storage/blobs/fs-blob-store.js';
import { createCachedBlobStore } from '../storage/blobs/cached-blob-store.js';
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
import { join } from 'node:path';
import { sql } from 'kysely';
import { noMetrics, type Metrics } from '../core/metrics/metrics.js';
import { createAuditLog } from '../core/audit/audit-log.js';
import { createSqlUnitOfWork } from '../storage/sql/unit-of-work.js';
import { createSqlAuditRepository } from '../storage/sql/audit-repository.js';

export interface Storage {
  connection: SqlConnection;
  blobs: BlobStore;
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
  const onDisk = createFsBlobStore(join(config.dataDir, 'blobs'));
  const blobs =
    config.blobCacheBytes > 0
      ? createCachedBlobStore(onDisk, {
          maxBytes: config.blobCacheBytes,
          maxBlobBytes: config.blobCacheMaxImageBytes,
          onLookup: metrics.blobCache,
        })
      : onDisk;
  if (!sweep) return { connection, blobs };
  const swept = await blobs.sweepIncomplete();
  if (swept) logger.warn({ files: swept }, 'removed incomplete uploads left by an earlier crash');
  const releases = createSqlReleaseRepository(connection.db);
  let orphans = 0;
  for (const key of await blobs.list()) {
    if (!(await releases.isBlobReferenced(key))) {
      await blobs.delete(key);
      orphans++;
    }
  }
  if (orphans) logger.warn({ blobs: orphans }, 'removed blobs no release references (an upload cut short)');
  return { connection, blobs };
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
  const releaseEvents = createReleaseEvents();
  // Every management action and its audit record share one transaction (docs/adr/0004-audit.md).
  const audit = createAuditLog({
    unitOfWork: createSqlUnitOfWork(db, dialect),
    entries: createSqlAuditRepository(db),
  });
  const productService = createProductService({ products, releases: releaseRepo, audit });
  const releases = createReleaseService({
    products,
    releases: releaseRepo,
    blobs: storage.blobs,
    events: releaseEvents,
    audit,
    maxUploadBytes: config.maxUploadBytes,
    processors: createSigningProcessors({
      keys: openKeyStore(config),
      settings,
      blobs: storage.blobs,
      coapPublicUrl: config.coapPublicUrl,
    }),
  });
  const devices = createDeviceRegistry({
    devices: createSqlDeviceRepository(db, dialect),
    flushIntervalMs: config.flushIntervalMs,
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
      audit,
    }),
    settings,
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
