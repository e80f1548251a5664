/**
 * Migrating from each seed (docs/migrating.md): Updraft started with the command line the doc gives for that seed,
 * against the seed's folder as its users have it, then the seed's README example: its curl commands, its client's
 * requests (header sets from specs/seeds.md, byte for byte where it matters).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ADMIN_TOKEN, spawnServer, tempDir, type SpawnedServer } from '../support/server.js';
import { httpRequest, rawRequest } from '../support/raw-http.js';
import { coapClient, decode, encode, RawPeer } from '../coap/helpers.js';
import { decodeBlock, encodeBlock } from '../../src/transports/coap/block.js';
import { Code, MessageType } from '../../src/transports/coap/message.js';
import { getOption, Opt } from '../../src/transports/coap/options.js';
import { riotbootHeader } from '../../src/core/manifests/riotboot.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const updraft = (server: SpawnedServer, args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    UPDRAFT_SERVER: server.url,
    UPDRAFT_TOKEN: ADMIN_TOKEN,
  });

async function api(server: SpawnedServer, path: string): Promise<Response> {
  return fetch(`${server.url}${path}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
}

/** The drop folder imports a file once it is unchanged across two scans (2 s apart). */
async function imported(server: SpawnedServer, product: string, version: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await api(server, `/api/v1/products/${product}/releases/${version}`)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`${product} ${version} not imported:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('migrating from sglahn/ota-server (ESP8266 httpUpdate)', () => {
  let dir: string;
  let data: string;
  let server: SpawnedServer;
  const image = Buffer.concat([Buffer.from([0xe9]), randomBytes(50_000)]);

  before(async () => {
    dir = await tempDir('updraft-sglahn-');
    data = await tempDir();
    // The README's naming: ${project-name}-${version}.bin in --dir.
    await writeFile(join(dir, 'firmware-0.1.bin'), image);
    // docs/migrating.md: `updraft serve --http-port 8000 --firmware-dir /etc/ota-server/firmware`
    server = await spawnServer(data, ['--firmware-dir', dir]);
    await imported(server, 'firmware', '0.1.0');
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(data, { recursive: true, force: true });
  });

  // ESP8266httpUpdate's request (device-protocols.md §1.1), to http://{host}:{port}/{project-name}.
  const esp = (version: string) =>
    rawRequest(
      server.port,
      httpRequest([
        'GET /firmware HTTP/1.0',
        `Host: 127.0.0.1:${server.port}`,
        'User-Agent: ESP8266-http-Update',
        'Connection: close',
        'x-ESP8266-Chip-ID: 15602487',
        'x-ESP8266-STA-MAC: 5C:CF:7F:00:00:01',
        'x-ESP8266-AP-MAC: 5E:CF:7F:00:00:01',
        'x-ESP8266-free-space: 3000000',
        'x-ESP8266-sketch-size: 300000',
        'x-ESP8266-sketch-md5: 00112233445566778899aabbccddeeff',
        'x-ESP8266-chip-size: 4194304',
        'x-ESP8266-sdk-version: 2.2.1(cfd48f3)',
        'x-ESP8266-mode: sketch',
        `x-ESP8266-version: ${version}`,
        'Content-Length: 0',
      ]),
    );

  it('offers firmware-0.1.bin to a device at 0.0 with x-MD5, and 304 to one at 0.1', async () => {
    const update = await esp('0.0');
    assert.equal(update.status, 200);
    assert.equal(update.headers['x-md5'], md5(image));
    assert.equal(update.headers['content-length'], String(image.length));
    assert.deepEqual(update.body, image);
    assert.equal((await esp('0.1')).status, 304);
  });

  it("runs the README's curl (x-ESP8266-version only): 304 at 1.0, the image below 0.1, as the seed", async () => {
    // README "Verify": curl -X GET http://localhost:8000/firmware -H 'x-ESP8266-version: 1.0'
    const readme = await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-X',
      'GET',
      `${server.url}/firmware`,
      '-H',
      'x-ESP8266-version: 1.0',
    ]);
    assert.equal(readme.stdout, '304', 'the seed: float(0.1) > float(1.0) is false');
    // Not into the watched folder: curl's output would be a file that fits no layout.
    const outDir = await tempDir('updraft-sglahn-out-');
    const out = join(outDir, 'got.bin');
    const older = await run('curl', [
      '-s',
      '-D',
      '-',
      '-o',
      out,
      `${server.url}/firmware`,
      '-H',
      'x-ESP8266-version: 0.0',
    ]);
    assert.match(older.stdout, /^HTTP\/1\.1 200/);
    assert.match(older.stdout, new RegExp(`x-MD5: ${md5(image)}`, 'i'));
    assert.deepEqual(await readFile(out), image);
    await rm(outDir, { recursive: true, force: true });
  });

  it('answers a curl without any ESP header with a clear 4xx instead of 400 with an empty body', async () => {
    const res = await run('curl', ['-s', '-w', ' %{http_code}', `${server.url}/firmware`]);
    assert.match(res.stdout, /^not an ESP httpUpdate request[^]* 4\d\d$/, 'a message and a 4xx');
  });
});

describe('migrating from devtank esp-at-ota-update-webserver (ESP-AT)', () => {
  let work: string;
  let data: string;
  let server: SpawnedServer;
  const ota = Buffer.concat([Buffer.from([0xe9]), randomBytes(40_000)]);
  const nvs = randomBytes(3000);
  const token = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';

  before(async () => {
    work = await tempDir('updraft-devtank-');
    data = await tempDir();
    // The README's layout: webserver.py beside partitions/, the key file in the same folder.
    await writeFile(join(work, 'webserver.py'), '#!/usr/bin/env python3\n');
    await mkdir(join(work, 'partitions', 'v1'), { recursive: true });
    await writeFile(join(work, 'partitions', 'v1', 'ota.bin'), ota);
    await writeFile(join(work, 'partitions', 'v1', 'mfg_nvs.bin'), nvs);
    // authorisation_key_gen.py's output: json.dumps(indent=2), no trailing newline.
    await writeFile(
      join(work, 'authorisation_keys.json'),
      JSON.stringify([{ Name: 'osm-1', Token: token }], null, 2),
    );
    // docs/migrating.md: `updraft serve --http-port 8000 --firmware-dir <work>` (the folder webserver.py ran
    // in), then `updraft tokens import <work>/authorisation_keys.json`.
    server = await spawnServer(data, ['--firmware-dir', work]);
    await imported(server, 'esp-at', '1.0.0');
    const keys = await updraft(server, ['tokens', 'import', join(work, 'authorisation_keys.json')]);
    assert.equal(keys.code, 0, keys.stderr);
    assert.match(keys.stdout, /osm-1\s+imported/);
  });
  after(async () => {
    await server.stop();
    await rm(work, { recursive: true, force: true });
    await rm(data, { recursive: true, force: true });
  });

  it('serves partitions/<version>/<file> to the README curl with the seed key', async () => {
    const out = join(work, 'got.bin');
    const res = await run('curl', [
      '-s',
      '-o',
      out,
      '-w',
      '%{http_code}',
      '-H',
      `Authorization: token ${token}`,
      `${server.url}/v1/device/rom/?action=download_rom&version=v1&filename=mfg_nvs.bin`,
    ]);
    assert.equal(res.stdout, '200');
    assert.deepEqual(await readFile(out), nvs);
    const denied = await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      `${server.url}/v1/device/rom/?action=download_rom&version=v1&filename=ota.bin`,
    ]);
    assert.equal(denied.stdout, '403');
  });

  it("replaces the README's key generator: tokens create --out adds a key the module can use at once", async () => {
    // README: cat ./authorisation_keys.json | ./authorisation_key_gen.py "my_new_key" > ./authorisation_keys.json
    const keys = join(work, 'authorisation_keys.json');
    const created = await updraft(server, [
      'tokens',
      'create',
      '--device',
      '--name',
      'my_new_key',
      '--out',
      keys,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const entries = JSON.parse(await readFile(keys, 'utf8')) as { Name: string; Token: string }[];
    assert.deepEqual(
      entries.map((e) => e.Name),
      ['osm-1', 'my_new_key'],
    );
    const res = await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      `Authorization: token ${created.stdout.trim()}`,
      `${server.url}/v1/device/rom/?action=download_rom&version=v1&filename=ota.bin`,
    ]);
    assert.equal(res.stdout, '200');
  });

  it('serves AT+CIUPDATE=0,"v1" (at_ota_cmd.c\'s exact request), headers and first bytes in one read', async () => {
    const res = await rawRequest(
      server.port,
      httpRequest([
        'GET /v1/device/rom/?action=download_rom&version=v1&filename=ota.bin HTTP/1.1',
        `Host: 127.0.0.1:${server.port}`,
        'Connection: keep-alive',
        'Cache-Control: no-cache',
        'User-Agent: Mozilla/5.0 (Windows NT 5.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/30.0.1599.101 Safari/537.36 ',
        'Accept: */*',
        `Authorization: token ${token}`,
        'Accept-Encoding: gzip,deflate,sdch',
        'Accept-Language: zh-CN,zh;q=0.8',
      ]),
      { firstReadMax: 1024 },
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, ota);
    const first = res.firstRead.toString('latin1');
    assert.ok(first.includes('Content-Length: ') && first.includes('\r\n\r\n'));
    assert.equal(res.firstRead[res.firstRead.indexOf('\r\n\r\n') + 4], 0xe9, 'the partition magic');
  });
});

describe('migrating from ruslan-kornich/ota_server (simple polling)', () => {
  let repo: string;
  let data: string;
  let server: SpawnedServer;
  const firmware = () => join(repo, 'ota_server', 'firmware');
  const versionFile = () => join(repo, 'ota_server', 'version', 'version.txt');

  before(async () => {
    // The repository as cloned: three 0-byte firmware files and version/version.txt = "v1.0.1\n".
    repo = await tempDir('updraft-ruslan-');
    data = await tempDir();
    await mkdir(join(repo, 'ota_server', 'firmware'), { recursive: true });
    await mkdir(join(repo, 'ota_server', 'version'), { recursive: true });
    for (const v of ['v1.0.0', 'v1.0.1', 'v2.0.0'])
      await writeFile(join(firmware(), `firmware_${v}.bin`), '');
    await writeFile(versionFile(), 'v1.0.1\n');
    // docs/migrating.md: `updraft serve --http-port 7777 --firmware-dir <repository root>`
    server = await spawnServer(data, ['--firmware-dir', repo]);
    await imported(server, 'simple-polling', '1.0.1');
  });
  after(async () => {
    await server.stop();
    await rm(repo, { recursive: true, force: true });
    await rm(data, { recursive: true, force: true });
  });

  // tests/test_server.py sends python-requests' headers plus the two custom ones.
  const get = (path: string, headers: Record<string, string>) =>
    rawRequest(
      server.port,
      httpRequest([
        `GET ${path} HTTP/1.1`,
        `Host: 127.0.0.1:${server.port}`,
        'User-Agent: python-requests/2.31.0',
        'Accept-Encoding: gzip, deflate',
        'Accept: */*',
        'Connection: keep-alive',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ]),
    );
  const device = { _br_mac_: '00:11:22:33:44:55', _br_fwv_: '1.0.0' };

  it("passes the seed's own six unit tests (tests/test_server.py), in unittest's order", async () => {
    // unittest runs a class's tests sorted by name, all with this MAC, against one server.
    // test_firmware_bin_version_not_found
    const missing = await get('/firmware.bin', { ...device, _br_fwv_: 'nonexistent_version' });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.toString(), 'Firmware version not found.');
    // test_firmware_bin_with_headers: writes firmware_1.0.0.bin, fetches it at once with _br_fwv_: 1.0.0, removes
    // it. The request lets the drop folder import it first (on demand, docs/migrating.md), so it gets the new
    // file, not the repository's firmware_v1.0.0.bin of the same version.
    const fake = join(firmware(), 'firmware_1.0.0.bin');
    await writeFile(fake, 'Fake firmware content');
    const res = await get('/firmware.bin', device);
    assert.equal(res.status, 200, 'the device never called /version.txt: no 204');
    assert.equal(res.body.toString(), 'Fake firmware content');
    await rm(fake);
    // test_firmware_bin_without_headers
    const anonymousFirmware = await get('/firmware.bin', {});
    assert.equal(anonymousFirmware.status, 401);
    assert.equal(anonymousFirmware.body.toString(), 'Unauthorized');
    // test_version_txt_with_different_firmware_version: 1.0.0, then 2.0.0 → both 200, the file's bytes.
    const expected = await readFile(versionFile());
    for (const v of ['1.0.0', '2.0.0']) {
      const r = await get('/version.txt', { ...device, _br_fwv_: v });
      assert.equal(r.status, 200, v);
      assert.deepEqual(r.body, expected, v);
    }
    // test_version_txt_with_headers
    const version = await get('/version.txt', device);
    assert.equal(version.status, 200);
    assert.deepEqual(version.body, expected);
    // test_version_txt_without_headers
    const anonymousVersion = await get('/version.txt', {});
    assert.equal(anonymousVersion.status, 401);
    assert.equal(anonymousVersion.body.toString(), 'Unauthorized');
  });

  it("runs the README's two curl commands: version.txt, then 204 for the version just reported, as the seed", async () => {
    const readme = (path: string, fwv: string) =>
      run('curl', [
        '-s',
        '-w',
        '\n%{http_code}',
        '-X',
        'GET',
        `${server.url}${path}`,
        '-H',
        'cache-control: no-cache',
        '-H',
        'Connection: close',
        '-H',
        '_br_mac_: 00:11:22:33:44:55',
        '-H',
        `_br_fwv_: ${fwv}`,
      ]);
    assert.equal((await readme('/version.txt', 'v1.0.0')).stdout, 'v1.0.1\n\n200');
    // The seed's "204 trap" (seeds.md §5.1): the first call recorded the device at v1.0.0, so naming v1.0.0 again
    // is "already running it". Naming the version version.txt gave is the download.
    assert.equal((await readme('/firmware.bin', 'v1.0.0')).stdout, '\n204');
    assert.equal((await readme('/firmware.bin', 'v1.0.1')).stdout, '\n200', 'the 0-byte firmware_v1.0.1.bin');
  });

  it('answers 204 to a known device naming the version it reported, and records it as running', async () => {
    const mac = { _br_mac_: 'AA:BB:CC:DD:EE:77' };
    assert.equal((await get('/version.txt', { ...mac, _br_fwv_: 'v1.0.1' })).status, 200);
    assert.equal((await get('/firmware.bin', { ...mac, _br_fwv_: 'v1.0.1' })).status, 204);
    const record = (await (await api(server, '/api/v1/devices/aa:bb:cc:dd:ee:77')).json()) as {
      version: string;
    };
    assert.equal(record.version, 'v1.0.1');
  });

  it('never serves a file still being written: the on-demand import waits until it stops growing', async () => {
    const path = join(firmware(), 'firmware_0.9.0.bin');
    // The writer is its own process, so this process's requests cannot pause it: 1 KiB every 5 ms for 1.5 s,
    // far more often than the on-demand settle (100 ms) could miss.
    const writer = execFile(process.execPath, [
      '-e',
      `const fs = require('node:fs');
       const fd = fs.openSync(process.argv[1], 'a');
       const chunk = Buffer.alloc(1024, 0x42);
       const end = Date.now() + 1500;
       fs.writeSync(fd, chunk);
       const t = setInterval(() => {
         fs.writeSync(fd, chunk);
         if (Date.now() >= end) { clearInterval(t); fs.closeSync(fd); }
       }, 5);`,
      path,
    ]);
    const exited = new Promise((r) => writer.on('exit', r));
    const pollDevice = { _br_mac_: 'AA:BB:CC:DD:EE:78', _br_fwv_: '0.9.0' };
    while (!(await stat(path).catch(() => undefined))) await new Promise((r) => setTimeout(r, 5));
    let writing = true;
    void exited.then(() => (writing = false));
    const during: string[] = [];
    while (writing) {
      const res = await get('/firmware.bin', pollDevice);
      // Counted only when the answer came while the file was still growing.
      if (writing) during.push(`${res.status} ${res.body.length}`);
    }
    assert.ok(during.length >= 3, `requests made while the file grew: ${during.length}`);
    assert.deepEqual(
      during.filter((r) => !r.startsWith('404 ')),
      [],
      'a growing file is not imported',
    );
    // Once it has stopped growing, it is imported on demand (a request or two) and served whole.
    const full = await readFile(path);
    const deadline = Date.now() + 5000;
    let res = await get('/firmware.bin', pollDevice);
    while (res.status !== 200 && Date.now() < deadline) res = await get('/firmware.bin', pollDevice);
    assert.equal(res.status, 200);
    assert.equal(res.body.length, full.length);
    assert.deepEqual(res.body, full);
    await rm(path);
  });
});

describe('migrating from firmwaremodules/iot-ota-server (STM32 over CoAP)', () => {
  let work: string;
  let data: string;
  let server: SpawnedServer;
  let coapPort: number;
  const PID = 'OTA-STM32L1-SPIRIT1';
  const image = randomBytes(90_624);

  before(async () => {
    work = await tempDir('updraft-fmu-');
    data = await tempDir();
    await mkdir(join(work, 'updates'));
    await writeFile(join(work, 'updates', `${PID}_1_1_31_APP_0xF63D0305.fmu`), image);
    await writeFile(join(work, 'updates', `${PID}_1_2_0_BOOT_0x0.fmu`), randomBytes(100));
    coapPort = await freeUdpPort();
    // docs/migrating.md: `updraft serve --coap-port 5683 --firmware-dir <the folder holding updates/>`
    server = await spawnServer(data, ['--coap-port', String(coapPort), '--firmware-dir', work]);
    await imported(server, PID, '1.1.31');
    await imported(server, PID, '1.2.0');
  });
  after(async () => {
    await server.stop();
    await rm(work, { recursive: true, force: true });
    await rm(data, { recursive: true, force: true });
  });

  it("serves the demo device's /updates request (PID, TYPE APP, VERSION 1.0.31) in 256-byte blocks", async () => {
    const peer = await RawPeer.open(coapPort);
    try {
      // PIDLEN PID TYPE VERSION OFFSET, little-endian, repeated on every block (seeds.md §4.2).
      const payload = Buffer.concat([
        Buffer.from([PID.length]),
        Buffer.from(PID, 'latin1'),
        Buffer.from([3]),
        Buffer.from([0x1f, 0x00, 0x00, 0x01]),
        Buffer.alloc(4),
      ]);
      const parts: Buffer[] = [];
      for (let num = 0; ; num++) {
        peer.send(
          encode({
            type: MessageType.CON,
            code: Code.GET,
            messageId: (num + 7) & 0xffff,
            token: Buffer.from([num & 0xff]),
            options: [
              { number: Opt.URI_PATH, value: Buffer.from('updates') },
              { number: Opt.BLOCK2, value: encodeBlock(num, false, 4) },
            ],
            payload,
          }),
        );
        const reply = await peer.next(2000);
        assert.equal(reply.code, Code.CONTENT, `block ${num}`);
        parts.push(reply.payload);
        const block = decodeBlock(getOption(reply.options, Opt.BLOCK2) ?? Buffer.alloc(0));
        assert.ok(block && block !== 'reserved-szx');
        if (!block.more) break;
      }
      assert.equal(
        sha256(Buffer.concat(parts)),
        sha256(image),
        'the 1.1.31 APP image, though 1.2.0 is newer',
      );
    } finally {
      await peer.close();
    }
  });
});

/**
 * A RIOT node stand-in (the seed's otatestnode/coap_node.py resources): `GET /suit/slot/inactive` answers
 * `inactive`, `POST /suit/trigger` records the manifest URL it is sent and answers 2.04.
 */
async function startNode(inactive: '0' | '1') {
  const node = dgram.createSocket('udp4');
  const triggered: string[] = [];
  node.on('message', (msg, rinfo) => {
    const request = decode(msg);
    const path = request.options
      .filter((o) => o.number === Opt.URI_PATH)
      .map((o) => o.value.toString())
      .join('/');
    const isTrigger = path === 'suit/trigger';
    if (isTrigger) triggered.push(request.payload.toString('utf8'));
    node.send(
      encode({
        type: MessageType.ACK,
        code: isTrigger ? Code.CHANGED : Code.CONTENT,
        messageId: request.messageId,
        token: request.token,
        options: [],
        payload: isTrigger ? Buffer.alloc(0) : Buffer.from(inactive),
      }),
      rinfo.port,
      rinfo.address,
    );
  });
  await new Promise<void>((resolve) => node.bind(0, '127.0.0.1', () => resolve()));
  return {
    port: node.address().port,
    triggered,
    close: () => new Promise<void>((resolve) => node.close(() => resolve())),
  };
}

describe('migrating from aabadie/ota-server (RIOT SUIT)', () => {
  let data: string;
  let build: string;
  let server: SpawnedServer;
  let coapPort: number;
  const ID = 'samr21-xpro_suit_update';
  const slot0 = Buffer.concat([riotbootHeader(1700000000, 0x1100), randomBytes(6000)]);
  const manifest = randomBytes(400);

  before(async () => {
    data = await tempDir();
    build = await tempDir('updraft-riot-build-');
    await mkdir(join(build, 'bin'));
    await writeFile(join(build, 'bin', 'suit_update-riot.suitv4_signed.1700000000.bin'), manifest);
    await writeFile(join(build, 'bin', 'suit_update-slot0.1700000000.riot.bin'), slot0);
    coapPort = await freeUdpPort();
    // docs/migrating.md: `updraft serve --http-port 8080 --coap-port 5683 --no-seed-auth` (the seed had no
    // authentication; --coap-public-url only when the address devices use is not the one the build uses).
    server = await spawnServer(data, ['--coap-port', String(coapPort), '--no-seed-auth']);
  });
  after(async () => {
    await server.stop();
    await rm(data, { recursive: true, force: true });
    await rm(build, { recursive: true, force: true });
  });

  it("runs the RIOT makefile's curl commands: /coap/url, /publish (files by path), then the files over CoAP", async () => {
    // SUIT_COAP_ROOT := $(shell curl -X GET $(SUIT_OTA_SERVER_URL)/coap/url/$(SUIT_PUBLISH_ID))
    const root = await run('curl', ['-X', 'GET', `${server.url}/coap/url/${ID}`]);
    assert.equal(root.stdout, `coap://127.0.0.1:${coapPort}/${ID}`);
    // suit/publish: curl -X POST -F publish_id=… -F <path>=@<path> … (run from the build folder).
    const files = [
      'bin/suit_update-riot.suitv4_signed.1700000000.bin',
      'bin/suit_update-slot0.1700000000.riot.bin',
    ];
    const published = await new Promise<{ stdout: string }>((resolve) =>
      execFile(
        'curl',
        [
          '-s',
          '-X',
          'POST',
          '-F',
          `publish_id=${ID}`,
          ...files.flatMap((f) => ['-F', `${f}=@${f}`]),
          `${server.url}/publish`,
        ],
        { cwd: build, encoding: 'utf8' },
        (_err, stdout) => resolve({ stdout }),
      ),
    );
    assert.equal((JSON.parse(published.stdout) as { publishId: string }).publishId, ID);
    for (const [name, bytes] of [
      ['suit_update-riot.suitv4_signed.latest.bin', manifest],
      ['suit_update-slot0.1700000000.riot.bin', slot0],
    ] as const) {
      const out = join(build, `coap-${name}`);
      await coapClient(['-m', 'get', '-b', '64', '-o', out, `${root.stdout}/${name}`]);
      assert.equal(sha256(await readFile(out)), sha256(bytes), name);
    }
  });

  it("runs the makefile's suit/notify (curl -F publish_id, urls, version to /notifyv4) and triggers the device", async () => {
    const node = await startNode('0');
    try {
      const res = await run('curl', [
        '-s',
        '-w',
        '\n%{http_code}',
        '-X',
        'POST',
        '-F',
        `publish_id=${ID}`,
        '-F',
        `urls=127.0.0.1:${node.port}`,
        '-F',
        'version=latest',
        `${server.url}/notifyv4`,
      ]);
      assert.match(res.stdout, /\n200$/, res.stdout);
      assert.deepEqual(node.triggered, [
        `coap://127.0.0.1:${coapPort}/${ID}/suit_update-riot.suitv4_signed.latest.bin`,
      ]);
    } finally {
      await node.close();
    }
  });

  it('runs otaclient.py --publish-id … --files … and --notify … (python-requests) with a SUIT v1 build', async () => {
    // The two requests client/otaclient.py makes, through python-requests as it does: /publish with the files
    // keyed by their path as typed and publish_id as a data field; /notify with publish_id and comma-joined urls.
    const otaclient = [
      'import sys, requests',
      'url, pid, action, *args = sys.argv[1:]',
      "if action == 'files':",
      "    r = requests.post(url + '/publish', files={f: open(f, 'rb').read() for f in args}, data={'publish_id': pid})",
      'else:',
      "    r = requests.post(url + '/notify', data={'publish_id': pid, 'urls': ','.join(args)})",
      "print('{}: {}'.format(r.status_code, r.reason))",
    ].join('\n');
    const client = (args: string[]) =>
      new Promise<string>((resolve) =>
        execFile(
          '/usr/bin/python3',
          ['-c', otaclient, server.url, 'samr21-xpro_otaclient', ...args],
          { cwd: build, encoding: 'utf8', env: { ...process.env, NO_PROXY: '*' } },
          (_err, stdout, stderr) => resolve(stdout + stderr),
        ),
      );
    const v1 = {
      'bin/otaclient-slot0.riot.suit.1700000200.bin': randomBytes(300),
      'bin/otaclient-slot1.riot.suit.1700000200.bin': randomBytes(300),
      'bin/otaclient-slot0.1700000200.riot.bin': Buffer.concat([
        riotbootHeader(1, 0x1100),
        randomBytes(3000),
      ]),
      'bin/otaclient-slot1.1700000200.riot.bin': Buffer.concat([
        riotbootHeader(1, 0x20900),
        randomBytes(3000),
      ]),
    };
    for (const [path, bytes] of Object.entries(v1)) await writeFile(join(build, path), bytes);
    assert.equal((await client(['files', ...Object.keys(v1)])).trim(), '200: OK');
    // The device's inactive slot is 1: it is sent the slot-1 manifest's .latest. copy, which it then fetches.
    const node = await startNode('1');
    try {
      assert.equal((await client(['notify', `127.0.0.1:${node.port}`])).trim(), '200: OK');
      const url = `coap://127.0.0.1:${coapPort}/samr21-xpro_otaclient/otaclient-slot1.riot.suit.latest.bin`;
      assert.deepEqual(node.triggered, [url]);
      const out = join(build, 'fetched-slot1-manifest.bin');
      await coapClient(['-m', 'get', '-b', '64', '-o', out, url]);
      assert.equal(sha256(await readFile(out)), sha256(v1['bin/otaclient-slot1.riot.suit.1700000200.bin']));
    } finally {
      await node.close();
    }
  });
});
