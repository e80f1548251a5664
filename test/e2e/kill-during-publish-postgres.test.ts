import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { tempDir } from '../support/server.js';
import { killLoop, ROUNDS } from './kill-loop.js';

/** UPDRAFT_TEST_POSTGRES_URL (`npm test` starts a throw-away server when it is unset), in a schema of its own. */
const PG_BASE = process.env.UPDRAFT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe(`kill -9 during publishes on PostgreSQL, ${ROUNDS} rounds`, () => {
  let data: string;
  const schema = `updraft_kill_${randomBytes(5).toString('hex')}`;
  after(async () => {
    await rm(data, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: PG_BASE });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });

  it('every listed release is complete and byte-exact, and no acknowledged one is lost', async (t) => {
    data = await tempDir();
    const client = new pg.Client({ connectionString: PG_BASE });
    await client.connect();
    await client.query(`create schema ${schema}`);
    await client.end();
    const sep = PG_BASE.includes('?') ? '&' : '?';
    const url = `${PG_BASE}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const { acknowledged, listed } = await killLoop(data, { UPDRAFT_DATABASE_URL: url });
    t.diagnostic(`${acknowledged} releases acknowledged before a kill, ${listed} listed at the end`);
    assert.ok(acknowledged > 0, 'some uploads completed between kills');
  });
});
