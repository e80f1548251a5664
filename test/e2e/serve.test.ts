import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { rm } from 'node:fs/promises';
import { ADMIN_TOKEN, releaseForm, spawnServer, tempDir } from '../support/server.js';

const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

// The same behaviour on SQLite and PostgreSQL: test/e2e/backends.test.ts.
describe('serving', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('listens on IPv4 and IPv6 at once with the default host', async () => {
    const data = await tempDir();
    dirs.push(data);
    const server = await spawnServer(data, ['--host', '::']);
    try {
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status, 200);
      assert.equal((await fetch(`http://[::1]:${server.port}/healthz`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/readyz`)).status, 200);
    } finally {
      await server.stop();
    }
  });

  it('lets an in-flight download finish on SIGTERM, then exits 0', async () => {
    const data = await tempDir();
    dirs.push(data);
    const server = await spawnServer(data);
    try {
      await fetch(`${server.url}/api/v1/products`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'big' }),
      });
      const image = randomBytes(32 * 1024 * 1024);
      const created = await fetch(`${server.url}/api/v1/products/big/releases`, {
        method: 'POST',
        headers: auth,
        body: releaseForm('1.0.0', { 'firmware.bin': image }),
      });
      assert.equal(created.status, 201);
      // A slow reader: read the first chunk, signal the server, then read the rest.
      const received = await new Promise<number>((resolve, reject) => {
        get(
          `${server.url}/api/v1/products/big/releases/1.0.0/artifacts/firmware.bin`,
          { headers: auth },
          (res) => {
            let n = 0;
            let signalled = false;
            res.on('data', (chunk: Buffer) => {
              n += chunk.length;
              if (!signalled) {
                signalled = true;
                res.pause();
                server.child.kill('SIGTERM');
                setTimeout(() => res.resume(), 300);
              }
            });
            // 'close' rather than 'end': the server closes the connection as it stops, which can pre-empt 'end'.
            res.on('close', () => resolve(res.complete ? n : -n));
            res.on('error', reject);
          },
        ).on('error', reject);
      });
      assert.equal(received, image.length);
      assert.equal(await server.stop(), 0);
    } finally {
      await server.stop();
    }
  });
});
