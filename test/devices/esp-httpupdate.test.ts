import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { publishRelease, startTestServer, type TestServer } from '../support/server.js';
import { httpRequest, rawRequest } from '../support/raw-http.js';
import { hashPassword } from '../../src/core/tokens/password.js';
import { deviceCount, deviceRecord, deviceWhen, espImage, json, kinds } from './helpers.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MAC = 'DE:BA:7A:B1:E0:42';
const ID = 'de:ba:7a:b1:e0:42';

/**
 * The request ESP8266httpUpdate sends, as captured on the wire from the core's host emulation
 * (specs/device-protocols.md §1.1), with the path, version and md5 as parameters.
 */
function esp8266Request(
  port: number,
  o: {
    path?: string;
    mode?: string;
    version?: string;
    md5?: string;
    free?: number;
    mac?: string;
    auth?: string;
  },
) {
  return httpRequest([
    `GET ${o.path ?? '/sensor'} HTTP/1.0`,
    `Host: 127.0.0.1:${port}`,
    'User-Agent: ESP8266-http-Update',
    ...(o.auth ? [`Authorization: ${o.auth}`] : []),
    'Connection: close',
    'x-ESP8266-Chip-ID: 15602487',
    `x-ESP8266-STA-MAC: ${o.mac ?? MAC}`,
    `x-ESP8266-AP-MAC: ${o.mac ?? MAC}`,
    `x-ESP8266-free-space: ${o.free ?? 4194304}`,
    'x-ESP8266-sketch-size: 400000',
    `x-ESP8266-sketch-md5: ${o.md5 ?? '00112233445566778899aabbccddeeff'}`,
    'x-ESP8266-chip-size: 4194304',
    'x-ESP8266-sdk-version: 2.5.0',
    `x-ESP8266-mode: ${o.mode ?? 'sketch'}`,
    ...(o.version !== undefined ? [`x-ESP8266-version: ${o.version}`] : []),
    'Content-Length: 0',
  ]);
}

/** arduino-esp32 3.x HTTPUpdate headers (§2.1) over its HTTPClient framing (HTTP/1.0, Connection: close). */
function esp32Request(port: number, o: { mode?: string; version?: string; extra?: string[] }) {
  return httpRequest([
    'GET /sensor HTTP/1.0',
    `Host: 127.0.0.1:${port}`,
    'User-Agent: ESP32-http-Update',
    'Connection: close',
    'Cache-Control: no-cache',
    'x-ESP32-BASE-MAC: 24:6F:28:00:00:01',
    'x-ESP32-STA-MAC: 24:6F:28:00:00:01',
    'x-ESP32-AP-MAC: 24:6F:28:00:00:02',
    'x-ESP32-free-space: 1966080',
    'x-ESP32-sketch-size: 900000',
    'x-ESP32-sketch-md5: ffeeddccbbaa99887766554433221100',
    `x-ESP32-sketch-sha256: ${'AB'.repeat(32)}`,
    'x-ESP32-chip-size: 4194304',
    'x-ESP32-sdk-version: v4.4.5',
    `x-ESP32-mode: ${o.mode ?? 'sketch'}`,
    ...(o.version !== undefined ? [`x-ESP32-version: ${o.version}`] : []),
    ...(o.extra ?? []),
    'Content-Length: 0',
  ]);
}

describe('ESP8266 / ESP32 httpUpdate', () => {
  let server: TestServer;
  let port: number;
  const image = espImage(150_000);
  const spiffs = Buffer.alloc(20_000, 0xff);
  const littlefs = Buffer.alloc(12_000, 0x11);

  before(async () => {
    server = await startTestServer();
    port = server.httpPort;
    await publishRelease(
      server,
      'sensor',
      '1.0.0',
      { 'firmware.bin': espImage(1000, 2) },
      { deviceFamily: 'esp8266' },
    );
    await publishRelease(server, 'sensor', '1.1.0', {
      'firmware.bin': image,
      'spiffs.bin': spiffs,
      littlefs,
    });
  });
  after(() => server.close());

  it('sends the newer release to the captured ESP8266 request: exact length, x-MD5, never chunked', async () => {
    const res = await rawRequest(port, esp8266Request(port, { version: '1.0.0' }));
    assert.equal(res.statusLine, 'HTTP/1.1 200 OK');
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    assert.equal(res.headers['content-length'], String(image.length));
    assert.equal(res.headers['x-md5'], md5(image));
    assert.match(res.headers['x-md5'] ?? '', /^[0-9a-f]{32}$/);
    assert.equal(res.headers['x-version'], '1.1.0');
    assert.equal(res.headers['transfer-encoding'], undefined);
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.headers['x-sha256'], undefined, 'x-SHA256 is for ESP32 only');
    assert.ok(res.headerLines.includes(`Content-Length: ${image.length}`));
    assert.deepEqual(res.body, image);

    const device = await deviceWhen(server, ID, (d) => kinds(d).includes('download-completed'));
    assert.ok(device);
    assert.equal(device.product, 'sensor');
    assert.equal(device.version, '1.0.0');
    assert.equal(device.protocol, 'esp8266-httpupdate');
    assert.equal(device.lastOffered, '1.1.0');
    assert.equal(device.attributes['chip-id'], '15602487');
    assert.equal(device.attributes['sdk-version'], '2.5.0');
    assert.equal(device.attributes['free-space'], '4194304');
    assert.deepEqual(kinds(device), ['check-in', 'offered', 'download-started', 'download-completed']);
  });

  it('answers 304 with no body once the device runs it, and records the update with its time', async () => {
    const res = await rawRequest(port, esp8266Request(port, { version: '1.1.0' }));
    assert.equal(res.status, 304);
    assert.equal(res.body.length, 0);
    const device = await deviceRecord(server, ID);
    assert.equal(device?.version, '1.1.0');
    assert.equal(device?.lastOutcome, 'ok');
    assert.ok(device?.lastUpdate);
    assert.equal(kinds(device).at(-1), 'updated');
  });

  it('answers 304 when the running image has the offered md5, even without a version header', async () => {
    const res = await rawRequest(port, esp8266Request(port, { md5: md5(image), mac: '00:11:22:33:44:55' }));
    assert.equal(res.status, 304);
    const other = await rawRequest(port, esp8266Request(port, { mac: '00:11:22:33:44:56' }));
    assert.equal(other.status, 200, 'no version and another md5: the image is offered');
    assert.equal(other.body.length, image.length);
  });

  it('does not offer an image larger than the free space the device reports', async () => {
    const res = await rawRequest(port, esp8266Request(port, { version: '1.0.0', free: image.length - 1 }));
    assert.equal(res.status, 304);
  });

  it('serves the filesystem image in spiffs mode and the version in version mode', async () => {
    const fs = await rawRequest(port, esp8266Request(port, { mode: 'spiffs', version: '1.0.0', free: 10 }));
    assert.equal(fs.status, 200);
    assert.equal(fs.headers['content-length'], String(spiffs.length));
    assert.equal(fs.headers['x-md5'], md5(spiffs));
    assert.deepEqual(fs.body, spiffs);

    const version = await rawRequest(port, esp8266Request(port, { mode: 'version', version: '1.0.0' }));
    assert.equal(version.status, 200);
    assert.equal(version.headers['x-version'], '1.1.0');
    assert.equal(version.headers['x-md5'], md5(image));
    assert.equal(version.body.length, 0);
  });

  it('answers the ESP32 header set, with x-SHA256, for sketch and littlefs', async () => {
    const res = await rawRequest(port, esp32Request(port, { version: '1.0.0' }));
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-md5'], md5(image));
    assert.equal(res.headers['x-sha256'], sha256(image));
    assert.deepEqual(res.body, image);
    const fs = await rawRequest(port, esp32Request(port, { mode: 'littlefs', version: '1.0.0' }));
    assert.equal(fs.status, 200);
    assert.deepEqual(fs.body, littlefs);
    const device = await deviceRecord(server, '24:6f:28:00:00:01');
    assert.equal(device?.protocol, 'esp32-httpupdate');
    assert.equal(device?.attributes['sketch-sha256'], 'AB'.repeat(32));
    assert.equal(device?.attributes['base-mac'], '24:6F:28:00:00:01');
  });

  it('supports Range, HEAD and If-None-Match on the same path', async () => {
    // A resume names the image it continues (If-Range): the path's answer changes with each release.
    const ifRange = `If-Range: "${sha256(image)}"`;
    const range = await rawRequest(
      port,
      esp32Request(port, { version: '1.0.0', extra: ['Range: bytes=100-199', ifRange] }),
    );
    assert.equal(range.status, 206);
    assert.equal(range.headers['content-range'], `bytes 100-199/${image.length}`);
    assert.deepEqual(range.body, image.subarray(100, 200));
    const beyond = await rawRequest(
      port,
      esp32Request(port, { version: '1.0.0', extra: [`Range: bytes=${image.length}-`, ifRange] }),
    );
    assert.equal(beyond.status, 416);
    const etag = `"${sha256(image)}"`;
    const cached = await rawRequest(
      port,
      esp32Request(port, { version: '1.0.0', extra: [`If-None-Match: ${etag}`] }),
    );
    assert.equal(cached.status, 304);
    const head = await rawRequest(port, esp32Request(port, { version: '1.0.0' }).replace(/^GET/, 'HEAD'));
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(image.length));
    assert.equal(head.headers.etag, etag);
    assert.equal(head.body.length, 0);
  });

  it('refuses bad input and records nothing', async () => {
    const before = await deviceCount(server);
    const noHeader = await fetch(`${server.url}/sensor`);
    assert.equal(noHeader.status, 400);
    assert.match(await noHeader.text(), /x-ESP8266/);
    const badMac = await rawRequest(port, esp8266Request(port, { mac: 'DE:BA:7A:B1:E0', version: '1.0.0' }));
    assert.equal(badMac.status, 400);
    assert.match(badMac.body.toString(), /MAC/);
    const badMode = await rawRequest(
      port,
      esp8266Request(port, { mode: 'flashfs', mac: '02:00:00:00:00:09' }),
    );
    assert.equal(badMode.status, 400, 'flashfs is an ESP32 mode');
    const unknown = await rawRequest(port, esp8266Request(port, { path: '/nope', mac: '02:00:00:00:00:01' }));
    assert.equal(unknown.status, 404);
    const traversal = await rawRequest(
      port,
      esp8266Request(port, { path: '/x/..%2F..%2Fetc', mac: '02:00:00:00:00:02' }),
    );
    assert.equal(traversal.status, 404);
    const reserved = await rawRequest(
      port,
      esp8266Request(port, { path: '/api/v1/nope', mac: '02:00:00:00:00:03' }),
    );
    assert.equal(reserved.status, 404);
    assert.equal(JSON.parse(reserved.body.toString()).code, 'NOT_FOUND');
    assert.equal(await deviceRecord(server, 'de:ba:7a:b1:e0'), undefined);
    for (const mac of ['02:00:00:00:00:01', '02:00:00:00:00:02', '02:00:00:00:00:03', '02:00:00:00:00:09']) {
      assert.equal(await deviceRecord(server, mac), undefined, mac);
    }
    assert.equal(await deviceCount(server), before);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  it('asks for HTTP Basic credentials when the product sets them: 401 without, 403 when wrong', async () => {
    const passwordHash = await hashPassword('s3cret', { N: 1024, r: 8, p: 1 });
    const patch = await server.api('/api/v1/products/sensor', {
      method: 'PATCH',
      headers: json,
      body: JSON.stringify({ settings: { httpBasicAuth: { username: 'esp', passwordHash } } }),
    });
    assert.equal(patch.status, 200);
    const mac = '02:00:00:00:00:10';
    const none = await rawRequest(port, esp8266Request(port, { mac, version: '1.0.0' }));
    assert.equal(none.status, 401);
    assert.match(none.headers['www-authenticate'] ?? '', /^Basic realm="sensor"/);
    const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    const wrong = await rawRequest(
      port,
      esp8266Request(port, { mac, version: '1.0.0', auth: basic('esp:nope') }),
    );
    assert.equal(wrong.status, 403);
    const wrongUser = await rawRequest(
      port,
      esp8266Request(port, { mac, version: '1.0.0', auth: basic('x:s3cret') }),
    );
    assert.equal(wrongUser.status, 403);
    assert.equal(await deviceRecord(server, mac), undefined);
    const ok = await rawRequest(
      port,
      esp8266Request(port, { mac, version: '1.0.0', auth: basic('esp:s3cret') }),
    );
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, image);
    await server.api('/api/v1/products/sensor', {
      method: 'PATCH',
      headers: json,
      body: JSON.stringify({ settings: {} }),
    });
  });
});
