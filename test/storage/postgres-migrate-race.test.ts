import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { migrate, openDatabase } from '../../src/storage/sql/connection.js';
import { PG_BASE, pgSchema } from '../support/pg-schema.js';

/**
 * Other instances and test runs share the database and drop their schemas whenever they like. Kysely's stock
 * introspector, which its migrator uses at start-up, reads every schema and fails with 3F000 when one vanishes
 * mid-query (a CI run failed this way); ours looks only at the connection's own schema.
 */
describe('PostgreSQL migrations while other schemas come and go', () => {
  async function churn(worker: number, stop: { done: boolean }): Promise<number> {
    const c = new pg.Client({ connectionString: PG_BASE });
    await c.connect();
    let n = 0;
    try {
      while (!stop.done) {
        const name = `updraft_churn_${process.pid}_${worker}_${n++}`;
        await c.query(`create schema ${name}; create table ${name}.t (a int, b int, c int)`);
        await c.query(`drop schema ${name} cascade`);
      }
    } finally {
      await c.end();
    }
    return n;
  }

  async function introspectWhileChurning(introspect: () => Promise<unknown>, rounds: number) {
    const stop = { done: false };
    const churners = Array.from({ length: 4 }, (_, worker) => churn(worker, stop));
    const errors: string[] = [];
    try {
      for (let i = 0; i < rounds; i++) await introspect().catch((e: Error) => errors.push(e.message));
    } finally {
      stop.done = true;
      // A churner's own failure is a broken fixture, not the behaviour under test: it fails the test too.
      await Promise.all(churners);
    }
    return errors;
  }

  it('the stock introspector does fail (the race is real on this server)', async () => {
    const db = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: PG_BASE, max: 1 }) }),
    });
    try {
      const errors = await introspectWhileChurning(
        () => db.introspection.getTables({ withInternalKyselyTables: true }),
        400,
      );
      assert.ok(
        errors.some((m) => /does not exist/.test(m)),
        `expected at least one "does not exist" in 400 rounds, got ${errors.length} errors`,
      );
    } finally {
      await db.destroy();
    }
  });

  it('migrate() and our introspector never fail for another schema', async () => {
    const schema = await pgSchema();
    const connection = await openDatabase(schema.url);
    try {
      await migrate(connection);
      const errors = await introspectWhileChurning(async () => {
        await migrate(connection);
        const tables = await connection.db.introspection.getTables();
        assert.ok(tables.some((t) => t.name === 'releases' && t.schema === schema.schema));
        assert.ok(tables.every((t) => t.schema === schema.schema));
      }, 200);
      assert.deepEqual(errors, []);
    } finally {
      await connection.close();
      await schema.drop();
    }
  });
});
