import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { openSqlite } from '../../src/storage/sql/connection.js';
import { tempDir } from '../support/server.js';

const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * The other writer of the file (the check-in writer's worker thread in production), in its own process so that
 * its wait on the lock does not block this thread: announces itself, writes one row, reports the outcome.
 */
const OTHER_WRITER = `
const Database = require(process.argv[1]);
const db = new Database(process.argv[2]);
db.pragma('busy_timeout = 5000');
process.stdout.write('writing\\n');
try { db.prepare("insert into t values ('other', 2)").run(); process.stdout.write('committed\\n'); }
catch (err) { process.stdout.write('failed ' + err.code + '\\n'); }
`;

/**
 * A transaction that reads before it writes, while another connection commits in between (an empty product
 * PATCH, a rollout-mode change, against the write-behind flush): with kysely's deferred BEGIN the first write
 * failed at once with SQLITE_BUSY (a 500 in the bad-input sweep on CI). Begun immediate, the other writer waits.
 */
describe('SQLite: transactions hold the write lock from their start', () => {
  let dir: string;
  let db: Kysely<unknown>;

  before(async () => {
    dir = await tempDir('updraft-sqlite-lock-');
    db = (await openSqlite(join(dir, 'db.sqlite'))) as unknown as Kysely<unknown>;
    await sql`create table t (k text primary key, v integer)`.execute(db);
  });
  after(async () => {
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('a read-then-write transaction commits while another connection writes meanwhile', async () => {
    const file = join(dir, 'db.sqlite');
    let other: ReturnType<typeof spawn> | undefined;
    const output: string[] = [];
    await db.transaction().execute(async (trx) => {
      await sql`select count(*) from t`.execute(trx);
      other = spawn(process.execPath, ['-e', OTHER_WRITER, betterSqlite, file], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      other.stdout?.on('data', (d: Buffer) => output.push(...d.toString().trim().split('\n')));
      // Until the other connection has tried its write, and for long enough that a write not blocked by
      // this transaction has committed.
      while (!output.includes('writing')) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 200));
      await sql`insert into t values ('this', 1)`.execute(trx);
    });
    assert.ok(other);
    await once(other, 'exit');
    assert.deepEqual(output, ['writing', 'committed']);
    const rows = await sql<{ k: string }>`select k from t order by k`.execute(db);
    assert.deepEqual(
      rows.rows.map((r) => r.k),
      ['other', 'this'],
    );
  });
});
