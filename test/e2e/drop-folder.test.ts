import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, tempDir, type TestServer } from '../support/server.js';

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('drop folder (--firmware-dir)', () => {
  let server: TestServer;
  let dir: string;
  const v1 = randomBytes(3000);

  before(async () => {
    dir = await tempDir('updraft-drop-');
    await writeFile(join(dir, 'firmware-0.1.bin'), v1);
    await writeFile(join(dir, 'README.txt'), 'not firmware');
    await writeFile(join(dir, 'weird-name.bin'), 'no version');
    await mkdir(join(dir, 'nested'));
    server = await startTestServer({ firmwareDir: dir });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('imports <product>-<version>.bin as a published release at start-up, skipping names that fit no layout', async () => {
    const res = await server.api('/api/v1/products/firmware/releases/0.1.0');
    assert.equal(res.status, 200);
    const release = (await res.json()) as {
      state: string;
      label: string;
      artifacts: { name: string; size: number }[];
    };
    assert.equal(release.state, 'published');
    assert.equal(release.label, '0.1');
    assert.deepEqual(
      release.artifacts.map((a) => [a.name, a.size]),
      [['firmware.bin', 3000]],
    );
    const products = (await (await server.api('/api/v1/products')).json()) as { items: { name: string }[] };
    assert.deepEqual(
      products.items.map((p) => p.name),
      ['firmware'],
    );
  });

  it('picks up a new file while running, and revokes a release whose file is removed', async () => {
    await writeFile(join(dir, 'firmware-0.2.bin'), randomBytes(100));
    await until('0.2.0 imported', async () =>
      (await server.api('/api/v1/products/firmware/releases/0.2.0')).status === 200 ? true : undefined,
    );
    await unlink(join(dir, 'firmware-0.1.bin'));
    const state = await until('0.1.0 revoked', async () => {
      const r = (await (await server.api('/api/v1/products/firmware/releases/0.1.0')).json()) as {
        state: string;
      };
      return r.state === 'revoked' ? r.state : undefined;
    });
    assert.equal(state, 'revoked');
  });

  it('publishes a release again when its file comes back, but keeps an operator revoke', async () => {
    await writeFile(join(dir, 'firmware-0.1.bin'), v1);
    await until('0.1.0 published again', async () => {
      const r = (await (await server.api('/api/v1/products/firmware/releases/0.1.0')).json()) as {
        state: string;
      };
      return r.state === 'published' ? true : undefined;
    });
    assert.equal(
      (await server.api('/api/v1/products/firmware/releases/0.2.0/revoke', { method: 'POST' })).status,
      200,
    );
    await new Promise((r) => setTimeout(r, 2500));
    await server.services.devices.flush();
    const r = (await (await server.api('/api/v1/products/firmware/releases/0.2.0')).json()) as {
      state: string;
    };
    assert.equal(r.state, 'revoked', 'the file is still there, but the operator revoked the release');
    // The folder's changes are the server's own work; the operator's revoke is the operator's.
    const { items } = (await (await server.api('/api/v1/audit?target=firmware')).json()) as {
      items: { action: string; target: string; actor: { name: string }; address: string | null }[];
    };
    assert.deepEqual(items.map((e) => `${e.action} ${e.target} ${e.actor.name} ${e.address}`).reverse(), [
      'product.create firmware system null',
      'release.create firmware@0.1.0 system null',
      'release.create firmware@0.2.0 system null',
      'release.revoke firmware@0.1.0 system null',
      'release.publish firmware@0.1.0 system null',
      'release.revoke firmware@0.2.0 UPDRAFT_ADMIN_TOKEN 127.0.0.1',
    ]);
  });
});
