import { postgresSchemas } from '../support/pg-schema.js';
import { after, describe } from 'node:test';
import { migrate, openDatabase, type SqlConnection } from '../../src/storage/sql/connection.js';
import {
  createSqlProductRepository,
  createSqlReleaseRepository,
} from '../../src/storage/sql/catalog-repositories.js';
import { createSqlDeviceRepository } from '../../src/storage/sql/device-repository.js';
import { createSqlTokenRepository } from '../../src/storage/sql/token-repository.js';
import { createSqlSettingsRepository } from '../../src/storage/sql/settings-repository.js';
import { repositoriesContract, type Repositories } from './repositories.contract.js';
import { sql } from 'kysely';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqlAuditRepository } from '../../src/storage/sql/audit-repository.js';
import { createSqlUnitOfWork } from '../../src/storage/sql/unit-of-work.js';

const connections: SqlConnection[] = [];

async function repositories(url: string): Promise<Repositories> {
  const connection = await openDatabase(url);
  connections.push(connection);
  await migrate(connection);
  const { db, dialect, checkInWriter } = connection;
  return {
    products: createSqlProductRepository(db),
    releases: createSqlReleaseRepository(db),
    devices: createSqlDeviceRepository(db, dialect, checkInWriter),
    tokens: createSqlTokenRepository(db),
    settings: createSqlSettingsRepository(db),
    audit: createSqlAuditRepository(db),
    unitOfWork: createSqlUnitOfWork(db, dialect),
    async breakAuditLog() {
      if (dialect === 'sqlite') {
        await sql`create trigger audit_down before insert on audit_log begin select raise(abort, 'audit down'); end`.execute(
          db,
        );
      } else {
        await sql`create function audit_down() returns trigger language plpgsql as $$ begin raise exception 'audit down'; end $$`.execute(
          db,
        );
        await sql`create trigger audit_down before insert on audit_log for each row execute function audit_down()`.execute(
          db,
        );
      }
    },
  };
}

after(async () => {
  for (const c of connections) await c.close();
});

describe('repositories contract: SQLite', () => {
  repositoriesContract(() => repositories('sqlite::memory:'));
});

/** A SQLite file: the write-behind flush (`writeCheckIns`) runs on the check-in writer's worker thread. */
describe('repositories contract: SQLite file (check-in writer on a worker thread)', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  repositoriesContract(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'updraft-contract-'));
    dirs.push(dir);
    return repositories(`sqlite:${join(dir, 'updraft.db')}`);
  });
});

/**
 * PostgreSQL runs the same suite, each case in a schema of its own on the machine's server
 * (UPDRAFT_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test).
 */
describe('repositories contract: PostgreSQL', () => {
  const schemaUrl = postgresSchemas();
  repositoriesContract(async () => {
    return repositories(await schemaUrl());
  });
});
