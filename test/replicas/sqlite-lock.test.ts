import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnServer, tempDir, ADMIN_TOKEN } from '../support/server.js';

describe('SQLite stays single-process', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('refuses a second serve on the same database with a clear message, and starts after a kill -9', async () => {
    const dataDir = await tempDir('updraft-sqlite-lock-');
    dirs.push(dataDir);
    const first = await spawnServer(dataDir);
    const port = await freePort();
    const second = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--http-port', String(port), '--host', '127.0.0.1'],
      {
        env: {
          ...process.env,
          UPDRAFT_DATA: dataDir,
          UPDRAFT_COAP_PORT: '-1',
          UPDRAFT_ADMIN_TOKEN: ADMIN_TOKEN,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    second.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    second.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(second, 'exit')) as [number | null];
    assert.notEqual(code, 0);
    assert.match(out, /is in use by another updraft process \(pid \d+/);
    assert.match(out, /PostgreSQL/);
    // The first one still serves.
    assert.equal((await fetch(`${first.url}/healthz`)).status, 200);
    // A lock left by a killed process does not block the next start.
    await first.stop('SIGKILL');
    const third = await spawnServer(dataDir);
    assert.equal((await fetch(`${third.url}/healthz`)).status, 200);
    await third.stop();
  });

  it('starts in a data folder that does not exist yet (a first start), creating it', async () => {
    const parent = await tempDir('updraft-sqlite-new-');
    dirs.push(parent);
    const dataDir = join(parent, 'not', 'yet');
    const server = await spawnServer(dataDir);
    try {
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
      assert.ok(existsSync(join(dataDir, 'updraft.db.lock')), 'the lock is held in the new folder');
    } finally {
      await server.stop();
    }
  });
});
