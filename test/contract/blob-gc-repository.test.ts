import { randomBytes } from 'node:crypto';
import { postgresSchemas } from '../support/pg-schema.js';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { migrate, openDatabase, type SqlConnection } from '../../src/storage/sql/connection.js';
import { createSqlBlobGcRepository } from '../../src/storage/sql/blob-gc-repository.js';
import type { BlobGcRepository } from '../../src/core/blobs/blob-gc.js';
import { tempDir } from '../support/server.js';

const connections: SqlConnection[] = [];
after(async () => {
  for (const c of connections) await c.close();
});

const sha = () => randomBytes(32).toString('hex');
const t = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 0, minutes)).toISOString();

/** Two connections to one database: the hold/deletion ordering must hold across processes. */
type Open = () => Promise<[BlobGcRepository, BlobGcRepository]>;

function blobGcContract(open: Open): void {
  it('holds keep a blob in use until released or expired', async () => {
    const [repo] = await open();
    const x = sha();
    assert.deepEqual(await repo.hold('u1', x, t(10)), { deleting: false });
    assert.ok((await repo.inUse(t(5))).has(x));
    assert.ok(!(await repo.inUse(t(10))).has(x), 'a hold lapses at its expiry');
    await repo.renew('u1', t(20));
    assert.ok((await repo.inUse(t(15))).has(x), 'renewed');
    await repo.release('u1');
    assert.ok(!(await repo.inUse(t(15))).has(x));
    await repo.hold('u2', x, t(10));
    assert.equal(await repo.dropExpiredHolds(t(11)), 1);
  });

  it('an orphan is claimed only after its grace, never while held, and a hold sees a claim', async () => {
    const [repo] = await open();
    const x = sha();
    const first = await repo.noteOrphans([x], t(0));
    assert.equal(first.get(x), t(0));
    assert.equal((await repo.noteOrphans([x], t(30))).get(x), t(0), 'the first sighting counts');
    assert.equal(await repo.claimForDeletion(x, t(30), t(-1)), false, 'within the grace period');

    await repo.hold('u1', x, t(100));
    assert.equal(await repo.claimForDeletion(x, t(61), t(60)), false, 'held');
    assert.equal((await repo.noteOrphans([x], t(62))).get(x), t(62), 'a hold starts the grace over');
    await repo.release('u1');

    assert.equal(await repo.claimForDeletion(x, t(200), t(100)), true);
    assert.equal(await repo.claimForDeletion(x, t(200), t(100)), false, 'claimed once');
    assert.deepEqual(await repo.hold('u2', x, t(300)), { deleting: true });
    assert.equal(await repo.isDeleting(x, t(199)), true);
    assert.equal(await repo.isDeleting(x, t(201)), false, 'an old claim is taken as abandoned');
    await repo.finishDeletion(x, true);
    assert.equal(await repo.isDeleting(x, t(0)), false);
  });

  it('a concurrent hold and claim on one blob: the claim wins only if the hold sees it', async () => {
    const [a, b] = await open();
    for (let i = 0; i < 20; i++) {
      const x = sha();
      await a.noteOrphans([x], t(0));
      const [claimed, held] = await Promise.all([
        a.claimForDeletion(x, t(100), t(50)),
        b.hold(`u${i}`, x, t(200)),
      ]);
      if (claimed) assert.equal(held.deleting, true, `round ${i}: deleted under a hold that did not see it`);
      else assert.ok((await b.inUse(t(100))).has(x));
    }
  });
}

describe('blob GC repository: SQLite', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  blobGcContract(async () => {
    const dir = await tempDir('updraft-gc-');
    dirs.push(dir);
    // One connection: better-sqlite3 waits for a lock synchronously, so two connections in one process would
    // block each other's event loop. Processes (--workers) each have their own and wait on SQLite's lock.
    const one = await openDatabase(`sqlite:${join(dir, 'updraft.db')}`);
    await migrate(one);
    connections.push(one);
    return [createSqlBlobGcRepository(one.db), createSqlBlobGcRepository(one.db)];
  });
});

describe('blob GC repository: PostgreSQL', () => {
  const schemaUrl = postgresSchemas();
  blobGcContract(async () => {
    const url = await schemaUrl();
    const one = await openDatabase(url);
    await migrate(one);
    const two = await openDatabase(url);
    connections.push(one, two);
    return [createSqlBlobGcRepository(one.db), createSqlBlobGcRepository(two.db)];
  });
});
