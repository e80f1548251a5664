import type { Kysely } from 'kysely';
import type { TransactionStores, UnitOfWork } from '../../core/audit/types.js';
import type { SqlDialect } from './connection.js';
import type { Database } from './schema.js';
import { createSqlProductRepository, createSqlReleaseRepository } from './catalog-repositories.js';
import { createSqlDeviceRepository } from './device-repository.js';
import { createSqlTokenRepository } from './token-repository.js';
import { createSqlSettingsRepository } from './settings-repository.js';
import { createSqlAuditRepository } from './audit-repository.js';
import { createSqlDeploymentRepository } from './deployment-repository.js';
import { createSqlGroupRepository, createSqlTagRepository } from './group-repository.js';

/** The repositories over one connection or transaction (cheap: closures over `db`). */
export function sqlStores(db: Kysely<Database>, dialect: SqlDialect): TransactionStores {
  return {
    products: createSqlProductRepository(db),
    releases: createSqlReleaseRepository(db),
    devices: createSqlDeviceRepository(db, dialect),
    tokens: createSqlTokenRepository(db),
    settings: createSqlSettingsRepository(db),
    deployments: createSqlDeploymentRepository(db),
    groups: createSqlGroupRepository(db),
    tags: createSqlTagRepository(db),
    audit: createSqlAuditRepository(db),
  };
}

/** One database transaction per unit of work; the repositories handed to `work` all run inside it. */
export function createSqlUnitOfWork(db: Kysely<Database>, dialect: SqlDialect): UnitOfWork {
  return {
    run: (work) => db.transaction().execute((trx) => work(sqlStores(trx, dialect))),
  };
}
