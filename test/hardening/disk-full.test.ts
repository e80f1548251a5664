import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { ADMIN_TOKEN, freePort, releaseForm, startTestServer, tempDir } from '../support/server.js';
import { PG_BASE, pgSchema } from '../support/pg-schema.js';

/**
 * Runs `updraft serve` in its own mount namespace (util-linux `unshare`, root or an unprivileged user namespace)
 * with its data folder on a tmpfs of `sizeKiB`, and its stdout/stderr on `log` (`/dev/full`: every write fails
 * with ENOSPC, as a log on a full disk does).
 */
async function serveOnSmallDisk(
  sizeKiB: number,
  log: 'pipe' | '/dev/full',
  on: 'data' | 'database' = 'data',
) {
  const data = await tempDir('updraft-full-');
  // 'database': only the SQLite file's folder is the small disk; the blobs have room.
  const small = on === 'data' ? data : join(data, 'db');
  if (on === 'database') await mkdir(small);
  const port = await freePort();
  const serve = [
    process.execPath,
    '--import',
    'tsx',
    'src/cli/main.ts',
    'serve',
    '--http-port',
    String(port),
    '--host',
    '127.0.0.1',
    '--coap-port',
    '-1',
    '--data',
    data,
  ].map((a) => `'${a}'`);
  const script = `mount -t tmpfs -o size=${sizeKiB}k tmpfs '${small}' && exec ${serve.join(' ')}${
    log === '/dev/full' ? ' >/dev/full 2>/dev/full' : ''
  }`;
  const child: ChildProcess = spawn('unshare', ['--mount', '--map-root-user', 'sh', '-c', script], {
    env: {
      ...process.env,
      UPDRAFT_ADMIN_TOKEN: ADMIN_TOKEN,
      UPDRAFT_LOG_LEVEL: 'info',
      ...(on === 'database' ? { UPDRAFT_DATABASE_URL: `sqlite:${join(small, 'updraft.db')}` } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${out}`);
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error(`server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, { ...init, headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...init.headers } });
  // The small disk as the server sees it: its mount namespace, reached through /proc (proc(5), /proc/pid/root).
  const disk = `/proc/${child.pid}/root${small}`;
  return { child, url, api, disk, output: () => out };
}

/** Writes `<dir>/filler` until the disk refuses a single page more; returns its path. */
async function fillDisk(dir: string): Promise<string> {
  const path = join(dir, 'filler');
  const file = await open(path, 'wx');
  try {
    for (const size of [1024 * 1024, 4096]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        const ok = await file.write(chunk).then(
          () => true,
          (err: NodeJS.ErrnoException) => {
            if (err.code !== 'ENOSPC') throw err;
            return false;
          },
        );
        if (!ok) break;
      }
    }
  } finally {
    await file.close();
  }
  return path;
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null]>;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const [code] = await exited;
  clearTimeout(timer);
  return code;
}

type Api = (path: string, init?: RequestInit) => Promise<Response>;

async function versions(api: Api, product: string): Promise<string[]> {
  const res = await api(`/api/v1/products/${product}/releases`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { items: { version: string }[] }).items.map((r) => r.version).sort();
}

/**
 * With the database's disk filled (`fill` returns the filler's path): a publish whose blob fits is refused with
 * 507 STORAGE_FULL, nothing of it is listed, reads and /healthz go on; once there is room again the same version
 * publishes (no half-written release holds its name) and downloads byte-exact.
 */
async function expectFullDatabaseRefusesPublish(api: Api, url: string, fill: () => Promise<string>) {
  const created = await api('/api/v1/products', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'full' }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const first = randomBytes(50_000);
  const before = await api('/api/v1/products/full/releases', {
    method: 'POST',
    body: releaseForm('0.9.0', { 'firmware.bin': first }),
  });
  assert.equal(before.status, 201, await before.clone().text());

  const filler = await fill();
  const image = randomBytes(100_000);
  const refused = await api('/api/v1/products/full/releases', {
    method: 'POST',
    // Random notes (5 kB after compression): PostgreSQL stores them in the release table's TOAST table, which
    // has no page yet and must grow (a row that fits a page already there would need no room).
    body: releaseForm('1.0.0', { 'firmware.bin': image }, { notes: randomBytes(5000).toString('hex') }),
  });
  assert.equal(refused.status, 507, await refused.clone().text());
  assert.equal(((await refused.json()) as { code: string }).code, 'STORAGE_FULL');
  assert.deepEqual(await versions(api, 'full'), ['0.9.0']);
  assert.equal((await api('/api/v1/products/full/releases/1.0.0')).status, 404);
  const old = await api('/api/v1/products/full/releases/0.9.0/artifacts/firmware.bin');
  assert.equal(old.status, 200);
  assert.ok(Buffer.from(await old.arrayBuffer()).equals(first));
  assert.equal((await fetch(`${url}/healthz`)).status, 200);

  await rm(filler);
  const again = await api('/api/v1/products/full/releases', {
    method: 'POST',
    body: releaseForm('1.0.0', { 'firmware.bin': image }),
  });
  assert.equal(again.status, 201, await again.clone().text());
  assert.deepEqual(await versions(api, 'full'), ['0.9.0', '1.0.0']);
  const served = await api('/api/v1/products/full/releases/1.0.0/artifacts/firmware.bin');
  assert.ok(Buffer.from(await served.arrayBuffer()).equals(image));
}

describe('hardening: a full disk (defect 9)', () => {
  it('answers a publish that does not fit with 507 STORAGE_FULL, keeps nothing, and goes on serving', async () => {
    const server = await serveOnSmallDisk(3 * 1024, 'pipe');
    try {
      const created = await server.api('/api/v1/products', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'full' }),
      });
      assert.equal(created.status, 201);
      const big = await server.api('/api/v1/products/full/releases', {
        method: 'POST',
        body: releaseForm('1.0.0', { 'firmware.bin': randomBytes(4 * 1024 * 1024) }),
      });
      assert.equal(big.status, 507, await big.clone().text());
      assert.equal(((await big.json()) as { code: string }).code, 'STORAGE_FULL');
      // The partial blob was removed: a release that fits still goes in.
      const small = await server.api('/api/v1/products/full/releases', {
        method: 'POST',
        body: releaseForm('1.0.1', { 'firmware.bin': randomBytes(100_000) }),
      });
      assert.equal(small.status, 201, await small.clone().text());
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    } finally {
      assert.equal(await stop(server.child), 0);
    }
  });

  it('answers a publish the SQLite database cannot hold (SQLITE_FULL) with 507 STORAGE_FULL, keeps nothing', async () => {
    // The database file alone on a 2 MiB disk, the blobs elsewhere: the upload fits, its rows do not.
    const server = await serveOnSmallDisk(2 * 1024, 'pipe', 'database');
    try {
      await expectFullDatabaseRefusesPublish(server.api, server.url, () => fillDisk(server.disk));
    } finally {
      assert.equal(await stop(server.child), 0);
    }
  });

  it('answers a publish PostgreSQL cannot hold (53100 disk_full) with 507 STORAGE_FULL, keeps nothing', async (t) => {
    // The test schema's tables in a tablespace on a 2 MiB tmpfs (WAL stays on the cluster's own disk, so a full
    // tablespace is an ERROR, not a PANIC). The cluster must see the mount: it is made in this namespace, which
    // needs root; and the cluster's data directory must be on this machine, to give the folder to its owner.
    const admin = new pg.Client({ connectionString: PG_BASE });
    await admin.connect();
    const dir = await tempDir('updraft-pg-full-');
    const tablespace = `updraft_full_${randomBytes(4).toString('hex')}`;
    let mounted = false;
    let server: Awaited<ReturnType<typeof startTestServer>> | undefined;
    let schema: Awaited<ReturnType<typeof pgSchema>> | undefined;
    try {
      const dataDirectory = (await admin.query<{ data_directory: string }>('show data_directory')).rows[0];
      const owner = dataDirectory
        ? await stat(dataDirectory.data_directory).catch(() => undefined)
        : undefined;
      if (!owner) return t.skip('the PostgreSQL cluster is not on this machine');
      const mount = spawnSync('mount', [
        '-t',
        'tmpfs',
        '-o',
        `size=2m,mode=0700,uid=${owner.uid},gid=${owner.gid}`,
        'tmpfs',
        dir,
      ]);
      if (mount.status !== 0)
        return t.skip(`cannot mount a tmpfs here (root needed): ${String(mount.stderr)}`);
      mounted = true;
      await admin.query(`create tablespace ${tablespace} location '${dir}'`);
      schema = await pgSchema();
      const databaseUrl = `${PG_BASE}?options=${encodeURIComponent(
        `-c search_path=${schema.schema} -c default_tablespace=${tablespace}`,
      )}`;
      server = await startTestServer({ databaseUrl });
      const tables = await admin.query(
        `select count(*)::int as n from pg_tables where schemaname = $1 and tablespace = $2`,
        [schema.schema, tablespace],
      );
      assert.ok((tables.rows[0] as { n: number }).n > 5, "the schema's tables are on the small disk");
      await expectFullDatabaseRefusesPublish(server.api, server.url, () => fillDisk(dir));
    } finally {
      await server?.close();
      await schema?.drop();
      await rm(join(dir, 'filler'), { force: true });
      await admin.query(`drop tablespace if exists ${tablespace}`).catch(() => undefined);
      await admin.end();
      if (mounted) spawnSync('umount', [dir]);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps serving and stops on SIGTERM when every log write fails with ENOSPC', async () => {
    const server = await serveOnSmallDisk(3 * 1024, '/dev/full');
    try {
      // Requests that log (a 404 for a device, an error) while the log cannot be written.
      for (let i = 0; i < 200; i++) {
        const res = await server.api('/api/v1/products/none/releases/1.0.0', {
          signal: AbortSignal.timeout(5000),
        });
        assert.equal(res.status, 404);
      }
      const started = Date.now();
      const health = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5000) });
      assert.equal(health.status, 200);
      assert.ok(Date.now() - started < 5000);
    } finally {
      assert.equal(await stop(server.child), 0, 'SIGTERM is honoured');
    }
  });
});
