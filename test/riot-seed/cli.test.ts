import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ADMIN_TOKEN, spawnServer, startTestServer, tempDir, type TestServer } from '../support/server.js';
import { loadConfig } from '../../src/config/config.js';
import { startScriptedDevice, startSilentDevice, type ScriptedDevice } from './helpers.js';
import { cliCommand } from '../support/server-bundle.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('updraft publish / notify with the RIOT seed client flags', () => {
  let server: TestServer;
  let dir: string;
  let device: ScriptedDevice;
  let silent: ScriptedDevice;

  const cli = (args: string[], env: Record<string, string> = {}) =>
    new Promise<Run>((resolve) => {
      execFile(
        process.execPath,
        [...cliCommand(), ...args],
        { env: { ...process.env, UPDRAFT_TOKEN: ADMIN_TOKEN, ...env } },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const listed = async () =>
    (
      (await (await server.api('/api/v1/publish-ids')).json()) as {
        items: { publishId: string; files: { name: string }[] }[];
      }
    ).items;

  before(async () => {
    server = await startTestServer({ coapPublicUrl: 'coap://[2001:db8::1]', notifyTimeoutMs: 500 });
    dir = await tempDir('updraft-riot-cli-');
    await mkdir(join(dir, 'bin'));
    await writeFile(join(dir, 'bin', 'app-riot.suitv4_signed.1700000000.bin'), randomBytes(400));
    await writeFile(join(dir, 'bin', 'app-slot0.1700000000.riot.bin'), randomBytes(5000));
    await writeFile(join(dir, 'bin', 'old-slot0.bin'), randomBytes(3000));
    await writeFile(join(dir, 'bin', 'old-manifest.cbor'), randomBytes(200));
    device = await startScriptedDevice({ inactiveSlot: 0 });
    silent = await startSilentDevice();
  });
  after(async () => {
    await server.close();
    await device.close();
    await silent.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('publish --publish-id ID --files F... (the HEAD client) with --ota-host-url', async () => {
    const run = await cli([
      'publish',
      '--publish-id',
      'samr21-xpro_app',
      '--files',
      join(dir, 'bin', 'app-riot.suitv4_signed.1700000000.bin'),
      join(dir, 'bin', 'app-slot0.1700000000.riot.bin'),
      '--ota-host-url',
      server.url,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^samr21-xpro_app 0\.0\.1 published$/m);
    assert.match(run.stdout, /app-riot\.suitv4_signed\.latest\.bin\s+400 bytes/);
    const item = (await listed()).find((i) => i.publishId === 'samr21-xpro_app');
    assert.equal(item?.files.length, 3);
  });

  it('publish --publish F... --manifest M (the 2019 client) with --ota-host / --ota-port', async () => {
    const run = await cli([
      'publish',
      '--publish-id',
      'legacy',
      '--publish',
      join(dir, 'bin', 'old-slot0.bin'),
      '--manifest',
      join(dir, 'bin', 'old-manifest.cbor'),
      '--ota-host',
      '127.0.0.1',
      '--ota-port',
      String(server.httpPort),
    ]);
    assert.equal(run.code, 0, run.stderr);
    const item = (await listed()).find((i) => i.publishId === 'legacy');
    assert.deepEqual(item?.files.map((f) => f.name).sort(), ['manifest', 'old-slot0.bin']);
  });

  it('publish without a token is refused (401) and says so', async () => {
    const run = await cli(
      ['publish', '--publish-id', 'x', '--files', join(dir, 'bin', 'old-slot0.bin'), '--server', server.url],
      { UPDRAFT_TOKEN: '' },
    );
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /HTTP 401/);
  });

  it('notify --publish-id ID [--version V] DEVICE...: one line per device, exit 1 when one failed', async () => {
    const env = { UPDRAFT_SERVER: server.url };
    const ok = await cli(
      ['notify', '--publish-id', 'samr21-xpro_app', '--version', 'latest', device.address],
      env,
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`^${device.address}\\s+ok\\s+2\\.01$`, 'm'));
    assert.equal(
      device.received.at(-1)?.payload,
      'coap://[2001:db8::1]/samr21-xpro_app/app-riot.suitv4_signed.latest.bin',
    );

    const mixed = await cli(
      [
        'notify',
        '--publish-id',
        'samr21-xpro_app',
        '--version',
        '1700000000',
        device.address,
        silent.address,
      ],
      env,
    );
    assert.equal(mixed.code, 1);
    assert.match(mixed.stdout, new RegExp(`^${device.address}\\s+ok\\s+2\\.01$`, 'm'));
    assert.match(mixed.stdout, new RegExp(`^${silent.address}\\s+timeout\\s+no answer`, 'm'));

    const json = await cli(['notify', '--publish-id', 'legacy', device.address, '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), {
      results: [{ device: device.address, status: 'ok', code: '2.01' }],
    });
    // The 2019 client's "manifest", sent to today's trigger resource.
    assert.equal(device.received.at(-1)?.payload, 'coap://[2001:db8::1]/legacy/manifest');

    // Each device's result is counted in the metrics (docs/metrics.md): three answered, one timed out.
    const metrics = await (await server.api('/metrics')).text();
    const count = (result: string) => {
      const line = metrics
        .split('\n')
        .find((l) => l.startsWith(`updraft_notify_results_total{result="${result}"} `));
      return line === undefined ? 0 : Number(line.split(' ')[1]);
    };
    assert.equal(count('ok'), 3);
    assert.equal(count('timeout'), 1);
    assert.equal(count('error'), 0);
  });

  it('the positional form of publish still works beside the seed form', async () => {
    const run = await cli([
      'publish',
      'gadget',
      '1.0',
      join(dir, 'bin', 'old-slot0.bin'),
      '--server',
      server.url,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^gadget 1\.0\.0 published/m);
  });

  it('serve --no-seed-auth (or UPDRAFT_SEED_ENDPOINTS_AUTH=false) opens the seed endpoints, not the API', async () => {
    const data = await tempDir('updraft-riot-serve-');
    const spawned = await spawnServer(data, ['--no-seed-auth', '--coap-public-url', 'coap://[2001:db8::1]']);
    try {
      const url = await fetch(`${spawned.url}/coap/url/samr21-xpro_app`);
      assert.equal(url.status, 200);
      assert.equal(await url.text(), 'coap://[2001:db8::1]/samr21-xpro_app');
      assert.equal((await fetch(`${spawned.url}/api/v1/publish-ids`)).status, 401);
    } finally {
      await spawned.stop();
      await rm(data, { recursive: true, force: true });
    }
    assert.equal(loadConfig({}, {}).seedEndpointsAuth, true);
    assert.equal(loadConfig({}, { UPDRAFT_SEED_ENDPOINTS_AUTH: 'false' }).seedEndpointsAuth, false);
    assert.throws(() => loadConfig({}, { UPDRAFT_SEED_ENDPOINTS_AUTH: 'maybe' }), /true or false/);
    assert.throws(() => loadConfig({}, { UPDRAFT_NOTIFY_CONCURRENCY: '0' }), /concurrency/);
  });
});
