import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { freePort, startTestServer, tempDir } from '../support/server.js';

const run = promisify(execFile);
const UNIT = 'deploy/systemd/updraft.service';

describe('deploy/systemd/updraft.service', () => {
  let dir: string;
  let unit: string;
  before(async () => {
    dir = await tempDir('updraft-systemd-');
    // systemd-analyze checks that ExecStart's program exists: an `updraft` as `npm install -g` would put it.
    const bin = join(dir, 'updraft');
    await writeFile(
      bin,
      `#!/bin/sh\nexec "${process.execPath}" --import tsx "${resolve('src/cli/main.ts')}" "$@"\n`,
    );
    await chmod(bin, 0o755);
    unit = join(dir, 'updraft.service');
    await writeFile(unit, (await readFile(UNIT, 'utf8')).replaceAll('/usr/bin/updraft', bin));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('passes systemd-analyze verify without a warning', () => {
    const result = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.trim(), '');
  });

  it('is hardened: dedicated user, read-only system but the data folder, no new privileges, restarts', async () => {
    const text = await readFile(UNIT, 'utf8');
    for (const line of [
      'User=updraft',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/updraft',
      'NoNewPrivileges=yes',
      'Restart=on-failure',
      'Type=simple',
      'ExecStartPost=/usr/bin/updraft wait-ready --timeout 60',
    ]) {
      assert.ok(text.split('\n').includes(line), `${line} missing`);
    }
    // systemd's own exposure score (0 = locked down, 10 = none; --threshold counts tenths): "OK" is below 3.
    const security = spawnSync('systemd-analyze', ['security', '--offline=yes', '--threshold=30', unit], {
      encoding: 'utf8',
    });
    assert.equal(security.status, 0, security.stdout.split('\n').slice(-3).join('\n'));
    assert.match(security.stdout, /Overall exposure level for updraft\.service: [0-2]\.\d OK/);
  });

  it('updraft wait-ready returns once /readyz answers 200, and fails after its timeout otherwise', async () => {
    const server = await startTestServer();
    try {
      const env = { ...process.env, UPDRAFT_HTTP_PORT: String(server.httpPort), UPDRAFT_HOST: '127.0.0.1' };
      await run(join(dir, 'updraft'), ['wait-ready', '--timeout', '10'], { env });
    } finally {
      await server.close();
    }
    const closed = await freePort();
    const started = Date.now();
    await assert.rejects(
      run(join(dir, 'updraft'), [
        'wait-ready',
        '--timeout',
        '1',
        '--url',
        `http://127.0.0.1:${closed}/readyz`,
      ]),
      (err: { code: number; stderr: string }) => err.code === 1 && /not ready after 1 s/.test(err.stderr),
    );
    assert.ok(Date.now() - started >= 1000);
  });
});
