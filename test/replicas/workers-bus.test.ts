import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { spawnServer, tempDir, ADMIN_TOKEN } from '../support/server.js';

/** `--workers N` on SQLite: the primary relays cache invalidations between its workers (app/cluster.ts). */
describe('--workers on one SQLite file', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('--workers 2 still shares one SQLite file, and a token revoked through one worker is refused by both', async () => {
    const dataDir = await tempDir('updraft-sqlite-workers-');
    dirs.push(dataDir);
    // A primary and two workers, each loading the sources through tsx: slow on a loaded machine.
    const server = await spawnServer(dataDir, ['--workers', '2'], {}, { startTimeoutMs: 90_000 });
    try {
      const headers = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
      const created = await fetch(`${server.url}/api/v1/tokens`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ kind: 'admin', name: 'temp' }),
      });
      assert.equal(created.status, 201);
      const { token, id } = (await created.json()) as { token: string; id: string };
      // New connections are handed to the workers in turn: warm both caches.
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${server.url}/api/v1/products`, {
          headers: { Authorization: `Bearer ${token}`, Connection: 'close' },
        });
        assert.equal(res.status, 200);
      }
      const revoked = await fetch(`${server.url}/api/v1/tokens/${id}`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      assert.ok(revoked.status < 300, String(revoked.status));
      await new Promise((r) => setTimeout(r, 1000));
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${server.url}/api/v1/products`, {
          headers: { Authorization: `Bearer ${token}`, Connection: 'close' },
        });
        assert.equal(res.status, 401, `request ${i} after the revoke`);
      }
    } finally {
      await server.stop();
    }
  });
});
