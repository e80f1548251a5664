import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, tempDir, type TestServer } from '../support/server.js';
import { httpRequest, rawRequest } from '../support/raw-http.js';
import { espImage, json } from './helpers.js';
import { cliCommand } from '../support/server-bundle.js';
import { productVersionLayout } from '../../src/transports/drop-folder/layouts.js';

const run = promisify(execFile);
const cli = (args: string[]) => run(process.execPath, [...cliCommand(), ...args]);

/** The two seeds' folders side by side: devtank `partitions/`, ruslan-kornich `firmware/` + `version/`. */
async function seedFolder(dir: string): Promise<void> {
  await mkdir(join(dir, 'partitions', 'v1'), { recursive: true });
  await mkdir(join(dir, 'partitions', 'v2'), { recursive: true });
  await mkdir(join(dir, 'partitions', 'not a version'), { recursive: true });
  await mkdir(join(dir, 'firmware'));
  await mkdir(join(dir, 'version'));
  await writeFile(join(dir, 'partitions', 'v1', 'ota.bin'), espImage(2000, 1));
  await writeFile(join(dir, 'partitions', 'v1', 'mqtt_ca.bin'), Buffer.from([0xf1, 0xf1, 1, 2]));
  await writeFile(join(dir, 'partitions', 'v2', 'ota.bin'), espImage(3000, 2));
  await writeFile(join(dir, 'partitions', 'not a version', 'ota.bin'), espImage(10, 3));
  for (const v of ['v1.0.0', 'v1.0.1', 'v2.0.0']) {
    await writeFile(join(dir, 'firmware', `firmware_${v}.bin`), `image ${v}`);
  }
  await writeFile(join(dir, 'version', 'version.txt'), 'v1.0.1\n');
}

type ReleaseView = { version: string; label: string | null; state: string; artifacts: { name: string }[] };

describe('drop-in layouts of the ESP-AT and simple-polling seeds', () => {
  let dir: string;
  let server: TestServer;
  const releases = async (product: string) =>
    (((await (await server.api(`/api/v1/products/${product}/releases`)).json()) as { items: ReleaseView[] })
      .items ?? []) as ReleaseView[];

  before(async () => {
    dir = await tempDir('updraft-seeds-');
    await seedFolder(dir);
    server = await startTestServer({ firmwareDir: dir });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('--firmware-dir imports partitions/<version>/<file> as esp-at releases, one artifact per file', async () => {
    const items = await releases('esp-at');
    assert.deepEqual(
      items.map((r) => [r.version, r.label, r.state, r.artifacts.map((a) => a.name).sort()]),
      [
        ['2.0.0', 'v2', 'published', ['ota.bin']],
        ['1.0.0', 'v1', 'published', ['mqtt_ca.bin', 'ota.bin']],
      ],
    );
    const product = (await (await server.api('/api/v1/products/esp-at')).json()) as { deviceFamily: string };
    assert.equal(product.deviceFamily, 'esp-at');
    const created = await server.api('/api/v1/tokens', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ kind: 'device', name: 'seed-module' }),
    });
    const { token } = (await created.json()) as { token: string };
    const res = await rawRequest(
      server.httpPort,
      httpRequest([
        'GET /v1/device/rom/?is_format_simple=true HTTP/1.0',
        'Host: x:1',
        `Authorization: token ${token}`,
      ]),
    );
    assert.equal(res.body.toString(), '{"rom_version": "v2", "status": 200}');
  });

  it('publishes the simple-polling releases up to the one version.txt names and keeps newer ones as drafts', async () => {
    const items = await releases('simple-polling');
    assert.deepEqual(
      items.map((r) => [r.label, r.state]),
      [
        ['v2.0.0', 'draft'],
        ['v1.0.1', 'published'],
        ['v1.0.0', 'published'],
      ],
    );
    const res = await rawRequest(
      server.httpPort,
      httpRequest([
        'GET /version.txt HTTP/1.1',
        'Host: x',
        '_br_mac_: 00:11:22:33:44:55',
        '_br_fwv_: v1.0.0',
      ]),
    );
    assert.equal(res.body.toString(), 'v1.0.1\n', "the seed's version.txt, byte for byte");
  });

  it('updraft import DIR does one pass into a data folder, and follows an edited version.txt', async () => {
    const data = await tempDir('updraft-import-');
    try {
      const first = JSON.parse((await cli(['import', dir, '--data', data, '--json'])).stdout) as {
        product: string;
        version: string;
        state: string;
      }[];
      assert.deepEqual(first.map((c) => `${c.product}@${c.version}:${c.state}`).sort(), [
        'esp-at@1.0.0:published',
        'esp-at@2.0.0:published',
        'simple-polling@1.0.0:published',
        'simple-polling@1.0.1:published',
        'simple-polling@2.0.0:draft',
      ]);
      await writeFile(join(dir, 'version', 'version.txt'), 'v2.0.0\n');
      const second = JSON.parse((await cli(['import', dir, '--data', data, '--json'])).stdout) as unknown[];
      assert.deepEqual(second, [
        { product: 'simple-polling', version: '2.0.0', state: 'published', was: 'draft' },
      ]);
      const again = await cli(['import', dir, '--data', data]);
      assert.match(again.stdout, /nothing to import/);
      await assert.rejects(cli(['import', join(dir, 'missing'), '--data', data]), /is not a folder/);
    } finally {
      await writeFile(join(dir, 'version', 'version.txt'), 'v1.0.1\n');
      await rm(data, { recursive: true, force: true });
    }
  });
});

describe('the ESP8266 seed layout <product>-<version>.bin', () => {
  const none = { readText: () => undefined };
  const versionOf = (name: string) => {
    const m = productVersionLayout.match(name, none);
    return m && m !== 'auxiliary' ? `${m.product} ${m.version}` : undefined;
  };

  it('takes SemVer and four-part versions, and nothing in sub-folders', () => {
    assert.equal(versionOf('firmware-0.1.bin'), 'firmware 0.1');
    assert.equal(versionOf('firmware-v1.0.1-rc.1.bin'), 'firmware v1.0.1-rc.1');
    assert.equal(versionOf('my.sensor-1.2.0.0.bin'), 'my.sensor 1.2.0.0');
    assert.equal(versionOf('firmware-v2.2.0.1.bin'), 'firmware v2.2.0.1');
    assert.equal(versionOf('firmware-1.2.3.4.5.bin'), undefined);
    assert.equal(versionOf('sub/firmware-0.1.bin'), undefined);
  });
});
