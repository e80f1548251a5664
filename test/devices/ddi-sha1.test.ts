import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import { publishRelease, startTestServer, tempDir } from '../support/server.js';
import { openDatabase } from '../../src/storage/sql/connection.js';

/** Migration 0003 adds `artifacts.sha1`; start-up computes it for artifacts stored before, from their blobs. */
describe('sha1 for every artifact', () => {
  let dataDir: string;
  after(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('is computed at upload and filled at start-up for rows stored without one', async () => {
    dataDir = await tempDir('updraft-sha1-');
    const image = randomBytes(70_000);
    const sha1 = createHash('sha1').update(image).digest('hex');
    const first = await startTestServer({ dataDir });
    const release = (await publishRelease(first, 'p', '1.0.0', { 'a.swu': image, 'b.swu': image })) as {
      artifacts: { sha1?: string }[];
    };
    assert.deepEqual(
      release.artifacts.map((a) => a.sha1),
      [sha1, sha1],
      'computed at upload',
    );
    await first.stop();

    // As a database migrated to 0003 from one written before it: the column exists, the values do not.
    const db = await openDatabase(`sqlite:${join(dataDir, 'updraft.db')}`);
    await sql`update artifacts set sha1 = null`.execute(db.db);
    await db.close();

    const second = await startTestServer({ dataDir });
    try {
      const res = await second.api('/api/v1/products/p/releases/1.0.0');
      const body = (await res.json()) as { artifacts: { sha1?: string }[] };
      assert.deepEqual(
        body.artifacts.map((a) => a.sha1),
        [sha1, sha1],
        'filled from the blob at start-up',
      );
    } finally {
      await second.stop();
    }
  });
});
