import { postgresSchemas } from '../support/pg-schema.js';
import { after, describe } from 'node:test';
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
  const schemaUrl = postgresSchemas();
  deploymentRepositoriesContract(async () => {
    return repositories(await schemaUrl());
  });
});
