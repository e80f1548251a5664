import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ADMIN_TOKEN, startTestServer, tempDir, type TestServer } from '../support/server.js';
import { cliCommand } from '../support/server-bundle.js';

const run = promisify(execFile);

describe('updraft CLI against a running server', () => {
  let server: TestServer;
  let dir: string;
  const cli = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, [...cliCommand(), ...args], {
      env: { ...process.env, UPDRAFT_SERVER: server.url, UPDRAFT_TOKEN: ADMIN_TOKEN, ...env },
    });

  before(async () => {
    server = await startTestServer();
    dir = await tempDir('updraft-cli-');
    await writeFile(join(dir, 'app.bin'), randomBytes(3 * 1024 * 1024));
    await writeFile(join(dir, 'fs.img'), randomBytes(1000));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('publish creates the product, uploads named files with a progress bar, and publishes', async () => {
    const { stdout, stderr } = await cli([
      'publish',
      'gadget',
      '1.4',
      `firmware.bin=${join(dir, 'app.bin')}`,
      `spiffs=${join(dir, 'fs.img')}`,
      '--notes',
      'hello',
    ]);
    assert.match(stdout, /^gadget 1\.4\.0 published/m);
    assert.match(stdout, /firmware\.bin\s+3145728 bytes/);
    assert.match(stderr, /created product gadget/);
    // Not a terminal: one summary line instead of a live bar (test/ops/cli-progress.test.ts covers the bar).
    assert.match(stderr, /uploading gadget 1\.4: 3\.\d MiB in \d+\.\d s/);
  });

  it('releases list / show / revoke', async () => {
    assert.match((await cli(['releases', 'list', 'gadget'])).stdout, /1\.4\.0\s+published/);
    const show = JSON.parse((await cli(['releases', 'show', 'gadget', '1.4.0', '--json'])).stdout) as {
      notes: string;
      artifacts: unknown[];
    };
    assert.equal(show.notes, 'hello');
    assert.equal(show.artifacts.length, 2);
    assert.match((await cli(['releases', 'revoke', 'gadget', '1.4.0'])).stdout, /revoked/);
  });

  it('devices list / show', async () => {
    server.services.devices.checkIn({
      deviceId: 'aa:bb:cc:00:11:22',
      product: 'gadget',
      version: '1.3.0',
      protocol: 'test',
    });
    assert.match(
      (await cli(['devices', 'list', '--product', 'gadget'])).stdout,
      /aa:bb:cc:00:11:22\s+gadget\s+1\.3\.0/,
    );
    assert.match((await cli(['devices', 'show', 'AA-BB-CC-00-11-22'])).stdout, /check-in/);
  });

  it('tokens create / list / revoke', async () => {
    const created = JSON.parse(
      (await cli(['tokens', 'create', '--device', '--product', 'gadget', '--json'])).stdout,
    ) as { id: string; token: string };
    assert.match(created.token, /^[0-9a-f]{40}$/);
    assert.match((await cli(['tokens', 'list'])).stdout, new RegExp(created.id));
    await cli(['tokens', 'revoke', created.id]);
    assert.doesNotMatch((await cli(['tokens', 'list'])).stdout, new RegExp(created.id));
  });

  it('fails with a message and exit code 1 on a wrong token or bad input', async () => {
    await assert.rejects(
      cli(['releases', 'list', 'gadget'], { UPDRAFT_TOKEN: 'wrong' }),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 1);
        assert.match(err.stderr, /UNAUTHORIZED/);
        return true;
      },
    );
    await assert.rejects(cli(['publish', 'gadget', 'latest', join(dir, 'fs.img')]), /INVALID_VERSION/);
  });
});

describe('updraft CLI output into a pipe', () => {
  it('stops quietly with exit 0 when the reader goes away (| head, | grep -q)', async () => {
    const child = spawn(process.execPath, [...cliCommand(), 'config', 'check', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The read end closes before the command writes: its first write fails with EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});
