import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ADMIN_TOKEN, releaseForm, spawnServer, tempDir } from '../support/server.js';

const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));
}

describe('a real server process: restarts and kill -9', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('keeps releases and device records across a graceful restart', async () => {
    const data = await tempDir();
    dirs.push(data);
    let server = await spawnServer(data);
    await fetch(`${server.url}/api/v1/products`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'keep' }),
    });
    const image = randomBytes(50_000);
    const created = await fetch(`${server.url}/api/v1/products/keep/releases`, {
      method: 'POST',
      headers: auth,
      body: releaseForm('1.0.0', { 'firmware.bin': image }, { publish: 'true' }),
    });
    assert.equal(created.status, 201);
    assert.equal(await server.stop('SIGTERM'), 0, 'graceful exit code');
    assert.match(server.output(), /stopped/);

    server = await spawnServer(data);
    try {
      const release = (await (
        await fetch(`${server.url}/api/v1/products/keep/releases/1.0.0`, { headers: auth })
      ).json()) as { state: string };
      assert.equal(release.state, 'published');
      const body = Buffer.from(
        await (
          await fetch(`${server.url}/api/v1/products/keep/releases/1.0.0/artifacts/firmware.bin`, {
            headers: auth,
          })
        ).arrayBuffer(),
      );
      assert.deepEqual(body, image);
    } finally {
      await server.stop();
    }
  });

  it('after a kill -9 in the middle of an upload, no partial blob or release is visible', async () => {
    const data = await tempDir();
    dirs.push(data);
    let server = await spawnServer(data);
    await fetch(`${server.url}/api/v1/products`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'cut' }),
    });

    // A multipart upload sent by hand: 8 MiB announced, 3 MiB sent, then the server is killed.
    const boundary = 'xxBOUNDARYxx';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="version"\r\n\r\n9.9.9\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="publish"\r\n\r\ntrue\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="firmware.bin"; filename="f.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const req = request(`${server.url}/api/v1/products/cut/releases`, {
      method: 'POST',
      headers: {
        ...auth,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': head.length + 8 * 1024 * 1024 + 100,
      },
    });
    req.on('error', () => undefined);
    req.write(head);
    for (let i = 0; i < 3; i++) req.write(randomBytes(1024 * 1024));
    // Wait until the server has written part of it to a temporary file.
    const deadline = Date.now() + 10_000;
    while (!(await files(join(data, 'blobs', 'tmp'))).length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.ok((await files(join(data, 'blobs', 'tmp'))).length > 0, 'the upload was in progress');
    await server.stop('SIGKILL');
    req.destroy();

    server = await spawnServer(data);
    try {
      const list = (await (
        await fetch(`${server.url}/api/v1/products/cut/releases`, { headers: auth })
      ).json()) as { items: unknown[] };
      assert.deepEqual(list.items, []);
      assert.deepEqual(await files(join(data, 'blobs', 'tmp')), [], 'temporary files swept');
      assert.deepEqual(await files(join(data, 'blobs', 'sha256')), [], 'no blob stored');
      // The server works normally after the crash.
      const ok = await fetch(`${server.url}/api/v1/products/cut/releases`, {
        method: 'POST',
        headers: auth,
        body: releaseForm('9.9.9', { 'firmware.bin': randomBytes(1000) }),
      });
      assert.equal(ok.status, 201);
    } finally {
      await server.stop();
    }
  });
});
