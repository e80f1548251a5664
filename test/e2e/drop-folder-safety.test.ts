import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, rename, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { openListed } from '../../src/transports/drop-folder/open-listed.js';
import { ADMIN_TOKEN, spawnServer, startTestServer, tempDir, type TestServer } from '../support/server.js';
import { httpRequest, rawRequest } from '../support/raw-http.js';

async function until(what: string, ok: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('drop folder: opening listed files', () => {
  let dir: string;
  let outside: string;
  before(async () => {
    dir = await tempDir('updraft-drop-open-');
    outside = await tempDir('updraft-outside-');
    await writeFile(join(outside, 'secret.bin'), 'outside the folder');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('refuses a file swapped for a symlink after listing (O_NOFOLLOW)', async () => {
    const path = join(dir, 'firmware-1.0.0.bin');
    await writeFile(path, 'inside');
    const listed = await lstat(path);
    const state = { path, size: listed.size, mtimeMs: listed.mtimeMs };
    await (await openListed(dir, state)).close();
    await unlink(path);
    await symlink(join(outside, 'secret.bin'), path);
    await assert.rejects(openListed(dir, state), /ELOOP|symbolic/);
  });

  it('refuses a file whose parent folder was swapped for a symlink, and a changed file', async () => {
    await mkdir(join(dir, 'partitions', 'v1'), { recursive: true });
    const path = join(dir, 'partitions', 'v1', 'ota.bin');
    await writeFile(path, 'inside');
    const listed = await lstat(path);
    await rename(join(dir, 'partitions', 'v1'), join(dir, 'partitions', 'v1-old'));
    await mkdir(join(outside, 'v1'));
    await writeFile(join(outside, 'v1', 'ota.bin'), 'inside');
    await symlink(join(outside, 'v1'), join(dir, 'partitions', 'v1'));
    const outsideStat = await lstat(join(outside, 'v1', 'ota.bin'));
    await assert.rejects(
      openListed(dir, { path, size: outsideStat.size, mtimeMs: outsideStat.mtimeMs }),
      /outside the drop folder/,
    );
    await assert.rejects(
      openListed(dir, {
        path: join(dir, 'partitions', 'v1-old', 'ota.bin'),
        size: 1,
        mtimeMs: listed.mtimeMs,
      }),
      /changed between listing and opening/,
    );
  });
});

describe('drop folder: versions as operators name them', () => {
  let dir: string;
  let server: TestServer;
  let token: string;
  const at = (version: string) => Buffer.concat([Buffer.from([0xe9]), Buffer.from(`esp-at ${version}`)]);

  before(async () => {
    dir = await tempDir('updraft-drop-versions-');
    // Written oldest first: opaque versions are ordered by when they were imported (file age in one scan).
    const names = ['test', 'osm-fw-1.2', '2024-05-16', 'v2.2.0.0'];
    for (const [i, v] of names.entries()) {
      await mkdir(join(dir, 'partitions', v), { recursive: true });
      await writeFile(join(dir, 'partitions', v, 'ota.bin'), at(v));
      const t = new Date(Date.now() - (names.length - i) * 60_000);
      await utimes(join(dir, 'partitions', v, 'ota.bin'), t, t);
    }
    await mkdir(join(dir, 'firmware'));
    await writeFile(join(dir, 'firmware', 'firmware_v1.0.0.bin'), 'polling 1.0.0');
    await writeFile(join(dir, 'firmware', 'firmware_1.0.0.bin'), 'polling 1.0.0');
    server = await startTestServer({ firmwareDir: dir });
    const res = await server.api('/api/v1/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'device', name: 'module' }),
    });
    token = ((await res.json()) as { token: string }).token;
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const download = (version: string) =>
    rawRequest(
      server.httpPort,
      httpRequest([
        `GET /v1/device/rom/?action=download_rom&version=${version}&filename=ota.bin HTTP/1.1`,
        `Host: 127.0.0.1:${server.httpPort}`,
        'Connection: keep-alive',
        `Authorization: token ${token}`,
      ]),
    );

  it('imports four-part and opaque version folders and serves each by the name the module sends', async () => {
    for (const v of ['test', 'osm-fw-1.2', '2024-05-16', 'v2.2.0.0']) {
      const res = await download(v);
      assert.equal(res.status, 200, v);
      assert.deepEqual(res.body, at(v), v);
    }
    const items = (
      (await (await server.api('/api/v1/products/esp-at/releases')).json()) as {
        items: { version: string; label: string | null }[];
      }
    ).items;
    assert.deepEqual(
      items.map((r) => r.label ?? r.version),
      ['v2.2.0.0', '2024-05-16', 'osm-fw-1.2', 'test'],
      'newest first by import order, 2024-05-16 kept as written (never SemVer 2024.0.0-05-16)',
    );
  });

  it('keeps a release while another spelling of its version is still in the folder', async () => {
    const release = async () =>
      (await (await server.api('/api/v1/products/simple-polling/releases/1.0.0')).json()) as {
        state: string;
      };
    assert.equal((await release()).state, 'published');
    await unlink(join(dir, 'firmware', 'firmware_v1.0.0.bin'));
    // The folder is rescanned every 2 s: wait past one rescan.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await release()).state, 'published', 'firmware_1.0.0.bin is still there');
    await unlink(join(dir, 'firmware', 'firmware_1.0.0.bin'));
    await until('revoked once both spellings are gone', async () => (await release()).state === 'revoked');
  });
});

describe('drop folder: a seed folder at either level', () => {
  let root: string;
  before(async () => {
    root = await tempDir('updraft-levels-');
    await mkdir(join(root, 'devtank', 'partitions', 'v1'), { recursive: true });
    await writeFile(join(root, 'devtank', 'partitions', 'v1', 'ota.bin'), 'at image');
    await writeFile(join(root, 'devtank', 'webserver.py'), '# the seed itself, not firmware');
    await mkdir(join(root, 'fmu', 'updates'), { recursive: true });
    await writeFile(join(root, 'fmu', 'updates', 'PIDX_1_0_2_APP_0x0.fmu'), 'stm32 image');
    await mkdir(join(root, 'ruslan', 'ota_server', 'firmware'), { recursive: true });
    await mkdir(join(root, 'ruslan', 'ota_server', 'version'), { recursive: true });
    await writeFile(join(root, 'ruslan', 'ota_server', 'firmware', 'firmware_v1.0.1.bin'), 'polling image');
    await writeFile(join(root, 'ruslan', 'ota_server', 'version', 'version.txt'), 'v1.0.1\n');
  });
  after(() => rm(root, { recursive: true, force: true }));

  const importOnce = async (dir: string): Promise<string[]> => {
    const data = await tempDir('updraft-levels-data-');
    try {
      const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
        execFile(
          process.execPath,
          ['--import', 'tsx', 'src/cli/main.ts', 'import', dir, '--data', data, '--json'],
          (err, out, stderr) => (err ? reject(new Error(stderr)) : resolve({ stdout: out })),
        ),
      );
      return (JSON.parse(stdout) as { product: string; version: string; state: string }[])
        .map((c) => `${c.product}@${c.version}:${c.state}`)
        .sort();
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  };

  it('imports the devtank folder or partitions/, the STM32 folder or updates/, the ruslan root or ota_server/', async () => {
    for (const dir of [join(root, 'devtank'), join(root, 'devtank', 'partitions')]) {
      assert.deepEqual(await importOnce(dir), ['esp-at@1.0.0:published'], dir);
    }
    for (const dir of [join(root, 'fmu'), join(root, 'fmu', 'updates')]) {
      assert.deepEqual(await importOnce(dir), ['PIDX@1.0.2:published'], dir);
    }
    for (const dir of [join(root, 'ruslan'), join(root, 'ruslan', 'ota_server')]) {
      assert.deepEqual(await importOnce(dir), ['simple-polling@1.0.1:published'], dir);
    }
  });

  it('serves --firmware-dir . run inside partitions/, and revokes a release whose files are removed', async () => {
    const partitions = join(root, 'devtank-cwd', 'partitions');
    await mkdir(join(partitions, 'v2'), { recursive: true });
    await writeFile(join(partitions, 'v2', 'ota.bin'), 'at image 2');
    const data = await tempDir('updraft-levels-data-');
    const server = await spawnServer(data, ['--firmware-dir', '.'], {}, { cwd: partitions });
    const state = async () => {
      const res = await fetch(`${server.url}/api/v1/products/esp-at/releases/2.0.0`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      return res.ok ? ((await res.json()) as { state: string }).state : String(res.status);
    };
    try {
      await until('imported from the relative folder', async () => (await state()) === 'published');
      await unlink(join(partitions, 'v2', 'ota.bin'));
      await until('revoked once its file is gone', async () => (await state()) === 'revoked');
    } finally {
      await server.stop();
      await rm(data, { recursive: true, force: true });
    }
  });
});
