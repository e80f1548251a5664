import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { publishRelease, startTestServer, type TestServer } from '../support/server.js';
import { httpRequest, rawRequest, type RawResponse } from '../support/raw-http.js';
import { deviceCount, deviceRecord, deviceWhen, espImage, json, kinds } from './helpers.js';

/**
 * The fixed header block of espressif/esp-at at_ota_cmd.c (`pheadbuffer`), byte for byte, including the
 * trailing space after the User-Agent (specs/device-protocols.md §3).
 */
function atRequest(port: number, requestLine: string, authorization: string | null): string {
  return httpRequest([
    requestLine,
    `Host: 127.0.0.1:${port}`,
    'Connection: keep-alive',
    'Cache-Control: no-cache',
    'User-Agent: Mozilla/5.0 (Windows NT 5.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/30.0.1599.101 Safari/537.36 ',
    'Accept: */*',
    ...(authorization === null ? [] : [`Authorization: ${authorization}`]),
    'Accept-Encoding: gzip,deflate,sdch',
    'Accept-Language: zh-CN,zh;q=0.8',
  ]);
}

const query = (port: number, token: string | null, prefix = 'v1') =>
  atRequest(
    port,
    `GET /${prefix}/device/rom/?is_format_simple=true HTTP/1.0`,
    token === null ? null : `token ${token}`,
  );
const download = (port: number, auth: string | null, params: string, prefix = 'v1') =>
  atRequest(port, `GET /${prefix}/device/rom/?${params} HTTP/1.1`, auth);

/** What the client extracts: `strstr(buf, "rom_version\": ")`, then the value up to `",`. */
function clientVersion(firstRead: Buffer): string | undefined {
  const text = firstRead.toString('latin1');
  const at = text.indexOf('rom_version": ');
  if (at < 0 || !text.includes('status')) return undefined;
  const rest = text.slice(at + 'rom_version": '.length + 1);
  const end = rest.indexOf('",');
  return end < 0 ? undefined : rest.slice(0, end);
}

describe('ESP-AT AT+CIUPDATE / AT+CIPFWVER', () => {
  let server: TestServer;
  let port: number;
  let token: string;
  const ota = espImage(300_000, 3);
  const mqttCa = Buffer.concat([Buffer.from([0xf1, 0xf1]), Buffer.alloc(2000, 7)]);

  async function newToken(body: Record<string, unknown>): Promise<string> {
    const res = await server.api('/api/v1/tokens', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ kind: 'device', ...body }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as { token: string }).token;
  }

  before(async () => {
    server = await startTestServer();
    port = server.httpPort;
    await publishRelease(
      server,
      'at-module',
      '1.0.0',
      { 'ota.bin': espImage(5000, 4) },
      { deviceFamily: 'esp-at' },
    );
    await publishRelease(server, 'at-module', 'v2.0', { 'ota.bin': ota, 'mqtt_ca.bin': mqttCa });
    token = await newToken({ name: 'module-1' });
  });
  after(() => server.close());

  it('answers the version query in one write under 1024 bytes, in the form the client parses', async () => {
    const res = await rawRequest(port, query(port, token), { firstReadMax: 1024 });
    assert.ok(res.raw.length < 1024, `${res.raw.length} bytes`);
    assert.deepEqual(res.firstRead, res.raw, 'the whole answer is in the first read');
    assert.equal(res.status, 200);
    assert.ok(res.headerLines.includes(`Content-Length: ${res.body.length}`));
    assert.equal(res.body.toString(), '{"rom_version": "v2.0", "status": 200}');
    assert.equal(clientVersion(res.firstRead), 'v2.0');
    const device = await deviceRecord(server, 'module-1');
    assert.equal(device?.product, 'at-module');
    assert.equal(device?.protocol, 'esp-at');
    assert.equal(device?.lastOffered, '2.0.0');
  });

  it('puts Content-Length, the end of the headers and the first body bytes in the first 1024-byte read', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await rawRequest(
        port,
        download(port, `token ${token}`, 'action=download_rom&version=v2.0&filename=ota.bin'),
        {
          firstReadMax: 1024,
        },
      );
      const first = res.firstRead.toString('latin1');
      assert.ok(first.includes('Content-Length: '), 'literal Content-Length: in the first read');
      const end = res.firstRead.indexOf('\r\n\r\n');
      assert.ok(end > 0, 'end of headers in the first read');
      assert.ok(res.firstRead.length > end + 4, 'body bytes in the first read');
      assert.equal(res.firstRead[end + 4], 0xe9, 'the ota magic byte is checked on the first read');
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-length'], String(ota.length));
      assert.equal(res.headers['transfer-encoding'], undefined);
      assert.equal(res.headers['content-encoding'], undefined, 'never gzip, though the client asks for it');
      assert.deepEqual(res.body, ota);
    }
    const device = await deviceWhen(server, 'module-1', (d) => kinds(d).includes('download-completed'));
    assert.ok(kinds(device).includes('download-started'));
    assert.ok(kinds(device).includes('download-completed'));
  });

  it('accepts any first path segment and serves the other partitions by file name', async () => {
    const res = await rawRequest(
      port,
      download(port, `token ${token}`, 'action=download_rom&version=1.0.0&filename=ota.bin', 'anything'),
    );
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 5000);
    const ca = await rawRequest(
      port,
      download(port, `token ${token}`, 'action=download_rom&version=v2.0&filename=mqtt_ca.bin'),
    );
    assert.deepEqual(ca.body, mqttCa);
  });

  it('lists the versions for AT+CIPFWVER as "version": "<v>", under 8 KB', async () => {
    const res = await rawRequest(
      port,
      httpRequest([
        'GET /v1/device/rom HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        'User-Agent: ESP32 HTTP Client/1.0',
        `Authorization: token ${token}`,
        'Content-Length: 0',
      ]),
    );
    assert.equal(res.status, 200);
    const body = res.body.toString();
    assert.ok(body.length < 8192);
    const versions = [...body.matchAll(/"version": "([^"]*)", /g)].map((m) => m[1]);
    assert.deepEqual(versions, ['v2.0', '1.0.0']);
  });

  it('scopes tokens: a product limit picks the product, a device limit names the device', async () => {
    await publishRelease(
      server,
      'other-at',
      '3.0.0',
      { 'ota.bin': espImage(100, 5) },
      { deviceFamily: 'esp-at' },
    );
    const limited = await newToken({ name: 'limited', product: 'other-at', device: 'dev-7' });
    const res = await rawRequest(port, query(port, limited));
    assert.equal(clientVersion(res.raw), '3.0.0');
    assert.equal((await deviceRecord(server, 'dev-7'))?.product, 'other-at');
    const denied = await rawRequest(
      port,
      download(port, `token ${limited}`, 'action=download_rom&version=v2.0&filename=ota.bin'),
    );
    assert.equal(denied.status, 404, 'v2.0 is not a release of the token product');
    // Two esp-at products: an unlimited token needs the product in the path.
    const ambiguous = await rawRequest(port, query(port, token));
    assert.equal(ambiguous.status, 404);
    const named = await rawRequest(port, query(port, token, 'other-at'));
    assert.equal(clientVersion(named.raw), '3.0.0');
  });

  it('binds an unlimited token to the open esp-at products: never another family or a Basic-protected one', async () => {
    await publishRelease(
      server,
      'esp8266-app',
      '1.0.0',
      { 'ota.bin': espImage(100, 6) },
      { deviceFamily: 'esp8266' },
    );
    await publishRelease(
      server,
      'locked-at',
      '1.0.0',
      { 'ota.bin': espImage(100, 7) },
      { deviceFamily: 'esp-at' },
    );
    const basic = await server.api('/api/v1/products/locked-at', {
      method: 'PATCH',
      headers: json,
      body: JSON.stringify({
        settings: { httpBasicAuth: { username: 'u', passwordHash: 'scrypt$16384$8$1$c2FsdA$aGFzaA' } },
      }),
    });
    assert.equal(basic.status, 200, await basic.clone().text());
    for (const product of ['esp8266-app', 'locked-at']) {
      const res = await rawRequest(
        port,
        download(port, `token ${token}`, 'action=download_rom&version=1.0.0&filename=ota.bin', product),
      );
      assert.equal(res.status, 404, product);
      assert.notEqual(res.body[0], 0xe9, 'no image');
      assert.equal(clientVersion((await rawRequest(port, query(port, token, product))).raw), undefined);
    }
    const limited = await newToken({ name: 'locked-module', product: 'locked-at' });
    const ok = await rawRequest(
      port,
      download(port, `token ${limited}`, 'action=download_rom&version=1.0.0&filename=ota.bin'),
    );
    assert.equal(ok.status, 200, 'a token limited to the product reaches it');
  });

  it('refuses bad tokens (403) and bad parameters (400), and records nothing', async () => {
    const fresh = await newToken({ name: 'fresh-module', product: 'at-module' });
    const before = await deviceCount(server);
    const forbidden: (string | null)[] = [
      null,
      `Token ${fresh}`,
      `token  ${fresh}`,
      `Bearer ${fresh}`,
      `token ${fresh.toUpperCase().replace(/^./, 'g')}`,
      `token ${'0'.repeat(40)}`,
      `token ${fresh}0`,
    ];
    for (const auth of forbidden) {
      const res = await rawRequest(
        port,
        download(port, auth, 'action=download_rom&version=v2.0&filename=ota.bin'),
      );
      assert.equal(res.status, 403, String(auth));
      assert.equal(res.body.toString(), '403: Forbidden');
    }
    const bad: [string, number][] = [
      ['', 400],
      ['action=upload_rom&version=v2.0&filename=ota.bin', 400],
      ['action=download_rom&filename=ota.bin', 400],
      ['action=download_rom&version=v2.0', 400],
      ['action=download_rom&version=..&filename=ota.bin', 400],
      ['action=download_rom&version=../../etc&filename=passwd', 400],
      ['action=download_rom&version=v2.0&filename=../../ota.bin', 400],
      ['action=download_rom&version=v2.0&filename=%2Fetc%2Fhostname', 400],
      ['action=download_rom&version=v2.0&filename=..', 400],
      ['action=download_rom&version=v2.0%0A&filename=ota.bin', 400],
      ['action=download_rom&version=..%5Cx&filename=ota.bin', 400],
      ['action=download_rom&version=v9&filename=ota.bin', 404],
      ['action=download_rom&version=v2.0&filename=nope.bin', 404],
    ];
    for (const [params, status] of bad) {
      const res: RawResponse = await rawRequest(port, download(port, `token ${fresh}`, params));
      assert.equal(res.status, status, params);
      assert.ok(res.body.length > 0, 'a message');
    }
    assert.equal(await deviceRecord(server, 'fresh-module'), undefined);
    assert.equal(await deviceCount(server), before);
  });
});
