import { after } from 'node:test';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_BASE = process.env.UPDRAFT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema on the machine's PostgreSQL, so parallel runs never collide; `drop` removes it. */
export async function pgSchema(): Promise<{ url: string; schema: string; drop(): Promise<void> }> {
  const schema = `updraft_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_BASE });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  return {
    schema,
    url: `${PG_BASE}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    async drop() {
      const c = new pg.Client({ connectionString: PG_BASE });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}

/** Ends every backend of this schema's application that matches `applicationName` (a connection cut). */
export async function terminateBackends(applicationName: string): Promise<number> {
  const c = new pg.Client({ connectionString: PG_BASE });
  await c.connect();
  const { rowCount } = await c.query(
    'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()',
    [applicationName],
  );
  await c.end();
  return rowCount ?? 0;
}

/**
 * For a file whose servers or contract cases each need a schema of their own: the returned factory creates one and
 * gives its URL; every schema it made is dropped when the calling suite ends.
 */
export function postgresSchemas(): () => Promise<string> {
  const made: Awaited<ReturnType<typeof pgSchema>>[] = [];
  after(async () => {
    for (const s of made.splice(0)) await s.drop();
  });
  return async () => {
    const s = await pgSchema();
    made.push(s);
    return s.url;
  };
}
