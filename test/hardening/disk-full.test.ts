import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { ADMIN_TOKEN, freePort, releaseForm, tempDir } from '../support/server.js';

/**
 * Runs `updraft serve` in its own mount namespace (util-linux `unshare`, root or an unprivileged user namespace)
 * with its data folder on a tmpfs of `sizeKiB`, and its stdout/stderr on `log` (`/dev/full`: every write fails
 * with ENOSPC, as a log on a full disk does).
 */
async function serveOnSmallDisk(sizeKiB: number, log: 'pipe' | '/dev/full') {
  const data = await tempDir('updraft-full-');
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
  const script = `mount -t tmpfs -o size=${sizeKiB}k tmpfs '${data}' && exec ${serve.join(' ')}${
    log === '/dev/full' ? ' >/dev/full 2>/dev/full' : ''
  }`;
  const child: ChildProcess = spawn('unshare', ['--mount', '--map-root-user', 'sh', '-c', script], {
    env: { ...process.env, UPDRAFT_ADMIN_TOKEN: ADMIN_TOKEN, UPDRAFT_LOG_LEVEL: 'info' },
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
  return { child, url, api, output: () => out };
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
