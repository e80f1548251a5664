import { after, describe } from 'node:test';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, openDatabase, type SqlConnection } from '../../src/storage/sql/connection.js';
import { createSqlDeploymentRepository } from '../../src/storage/sql/deployment-repository.js';
import { createSqlGroupRepository, createSqlTagRepository } from '../../src/storage/sql/group-repository.js';
import { createSqlDeviceRepository } from '../../src/storage/sql/device-repository.js';
import { deploymentRepositoriesContract, type DeploymentRepositories } from './deployments.contract.js';

const connections: SqlConnection[] = [];

async function repositories(url: string): Promise<DeploymentRepositories> {
  const connection = await openDatabase(url);
  connections.push(connection);
  await migrate(connection);
  const { db, dialect } = connection;
  return {
    deployments: createSqlDeploymentRepository(db),
    groups: createSqlGroupRepository(db),
    tags: createSqlTagRepository(db),
    devices: createSqlDeviceRepository(db, dialect),
  };
}

after(async () => {
  for (const c of connections) await c.close();
});

describe('deployment repositories contract: SQLite', () => {
  deploymentRepositoriesContract(() => repositories('sqlite::memory:'));
});

describe('deployment repositories contract: PostgreSQL', () => {
  const base = process.env.UPDRAFT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schemas: string[] = [];
  after(async () => {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    for (const s of schemas) await client.query(`drop schema if exists ${s} cascade`);
    await client.end();
  });
  deploymentRepositoriesContract(async () => {
    const schema = `updraft_test_${randomBytes(6).toString('hex')}`;
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    await client.query(`create schema ${schema}`);
    await client.end();
    schemas.push(schema);
    return repositories(`${base}?options=${encodeURIComponent(`-c search_path=${schema}`)}`);
  });
});
