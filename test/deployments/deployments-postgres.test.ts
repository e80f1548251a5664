import { after, describe } from 'node:test';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { deploymentScenarios } from './scenarios.js';

/** The same scenarios on PostgreSQL, each server in a schema of its own (UPDRAFT_TEST_POSTGRES_URL). */
describe('deployments on PostgreSQL: the fleet simulator through the real protocols', () => {
  const base = process.env.UPDRAFT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schemas: string[] = [];
  after(async () => {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    for (const s of schemas) await client.query(`drop schema if exists ${s} cascade`);
    await client.end();
  });
  deploymentScenarios(async () => {
    const schema = `updraft_test_${randomBytes(6).toString('hex')}`;
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    await client.query(`create schema ${schema}`);
    await client.end();
    schemas.push(schema);
    return `${base}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  });
});
