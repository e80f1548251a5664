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
import { runBlobGc, type BlobGcReport } from '../core/blobs/blob-gc.js';
import { createSqlBlobGcRepository } from '../storage/sql/blob-gc-repository.js';
import { openBlobStore } from './blob-store.js';
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
  { sweep = true }: { sweep?: boolean } = {},
): Promise<Storage> {
  const connection = await openDatabase(config.databaseUrl);
  if (sweep) await migrate(connection);
  const blobs = await openBlobStore(config);
  if (!sweep) return { connection, blobs };
  // A data folder is this process's alone at start-up: every temporary file is a crash's. A bucket is shared
  // with other replicas, so only old temporary objects go. Orphaned blobs are left to garbage collection.
  // An object store that is unreachable or refuses the credentials does not stop the start: the error is logged,
  // /readyz answers 503 with it, and the server recovers when the store does.
  const swept = await blobs
    .sweepIncomplete(config.blobStore ? config.blobIncompleteAfterMs : undefined)
    .catch((err: unknown) => {
      if (!config.blobStore) throw err;
      logger.error({ err }, `blob store ${config.blobStore} is not usable: ${(err as Error).message}`);
      return 0;
    });
  if (swept) logger.warn({ files: swept }, 'removed incomplete uploads left by an earlier crash');
  return { connection, blobs };
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
export function createServices(config: Config, storage: Storage, logger: Logger): Services {
  const { db, dialect } = storage.connection;
  const products = createSqlProductRepository(db);
  const releaseRepo = createSqlReleaseRepository(db);
  const settings = createSqlSettingsRepository(db);
  const releaseEvents = createReleaseEvents();
  const productService = createProductService({ products, releases: releaseRepo });
  const releases = createReleaseService({
    products,
    releases: releaseRepo,
    blobs: storage.blobs,
    events: releaseEvents,
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
    }),
  });
  const devices = createDeviceRegistry({
    devices: createSqlDeviceRepository(db, dialect),
    flushIntervalMs: config.flushIntervalMs,
    onFlushError: (err) => logger.error({ err }, 'device records could not be written; will retry'),
  });
  return {
    products: productService,
    releases,
    releaseEvents,
    devices,
    updates: createUpdateService({ releases, products: productService, registry: devices }),
    tokens: createTokenService({
      tokens: createSqlTokenRepository(db),
      configuredAdminToken: config.adminToken || undefined,
    }),
    settings,
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
