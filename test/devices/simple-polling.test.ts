import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { publishRelease, startTestServer, type TestServer } from '../support/server.js';
import { httpRequest, rawRequest, type RawResponse } from '../support/raw-http.js';
import { deviceCount, deviceRecord, deviceWhen, kinds } from './helpers.js';

/** The seed's devices (and its tests, python-requests) send the two custom headers on a plain GET. */
function poll(port: number, path: string, mac: string | null, fwv: string | null, extra: string[] = []) {
  return httpRequest([
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'User-Agent: python-requests/2.31.0',
    'Accept-Encoding: gzip, deflate',
    'Accept: */*',
    'Connection: keep-alive',
    ...(mac === null ? [] : [`_br_mac_: ${mac}`]),
    ...(fwv === null ? [] : [`_br_fwv_: ${fwv}`]),
    ...extra,
  ]);
}

describe('simple polling devices (_br_mac_ / _br_fwv_)', () => {
  let server: TestServer;
  let port: number;
  let withoutProduct: RawResponse;
  const v100 = Buffer.from('firmware v1.0.0');
  const v101 = Buffer.alloc(70_000, 0x5a);
  const get = (path: string, mac: string | null, fwv: string | null, extra?: string[]) =>
    rawRequest(port, poll(port, path, mac, fwv, extra));

  before(async () => {
    server = await startTestServer();
    port = server.httpPort;
    withoutProduct = await get('/version.txt', 'AA:BB:CC:DD:EE:99', 'v1.0.0');
    await publishRelease(
      server,
      'gadget',
      'v1.0.0',
      { 'firmware.bin': v100 },
      { deviceFamily: 'simple-polling' },
    );
    await publishRelease(server, 'gadget', 'v1.0.1', { 'firmware.bin': v101 });
  });
  after(() => server.close());

  it('answers 404 when no product has the simple-polling family', () => {
    assert.equal(withoutProduct.status, 404);
  });

  it('returns the version to run as the seed formats version.txt, and records the check-in', async () => {
    const res = await get('/version.txt', 'AA:BB:CC:DD:EE:01', 'v1.0.0');
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'v1.0.1\n');
    assert.equal(res.headers['content-length'], '7');
    const device = await deviceRecord(server, 'aa:bb:cc:dd:ee:01');
    assert.equal(device?.version, 'v1.0.0');
    assert.equal(device?.product, 'gadget');
    assert.equal(device?.protocol, 'simple-polling');
    assert.equal(device?.lastOffered, '1.0.1');
    assert.equal(device?.lastUpdate, null);
  });

  it('serves the target a seed-style device names in _br_fwv_, with Content-Length', async () => {
    const res = await get('/firmware.bin', 'AA:BB:CC:DD:EE:01', 'v1.0.1');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], String(v101.length));
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    assert.deepEqual(res.body, v101);
    const device = await deviceWhen(server, 'aa:bb:cc:dd:ee:01', (d) =>
      kinds(d).includes('download-completed'),
    );
    assert.equal(device.version, 'v1.0.0', 'a target named for download is not what the device runs');
    const events = kinds(device);
    assert.ok(events.indexOf('download-started') >= 0, 'download-started recorded');
    assert.ok(
      events.indexOf('download-started') < events.indexOf('download-completed'),
      `started before completed: ${events.join(', ')}`,
    );
    assert.equal(device.history.find((e) => e.kind === 'download-completed')?.version, '1.0.1');
  });

  it('records the update when the device reports the offered version, then answers 204', async () => {
    const res = await get('/version.txt', 'aa-bb-cc-dd-ee-01', 'v1.0.1');
    assert.equal(res.body.toString(), 'v1.0.1\n');
    const device = await deviceRecord(server, 'aa:bb:cc:dd:ee:01');
    assert.equal(device?.version, 'v1.0.1');
    assert.equal(device?.lastOutcome, 'ok');
    assert.ok(device?.lastUpdate);
    assert.ok(kinds(device).includes('updated'));
    const again = await get('/firmware.bin', 'AA:BB:CC:DD:EE:01', 'v1.0.1');
    assert.equal(again.status, 204);
    assert.equal(again.body.length, 0);
  });

  it('answers 204 to a known device naming the version it reported, as the seed does', async () => {
    await get('/version.txt', 'AA:BB:CC:DD:EE:02', 'v1.0.0');
    const res = await get('/firmware.bin', 'AA:BB:CC:DD:EE:02', 'v1.0.0');
    assert.equal(res.status, 204);
    assert.equal(res.body.length, 0);
    const device = await deviceRecord(server, 'aa:bb:cc:dd:ee:02');
    assert.equal(device?.version, 'v1.0.0');
    assert.ok(!kinds(device).includes('download-started'));
  });

  it('serves the version named in _br_fwv_, not the newest, to a device it has never seen', async () => {
    const res = await get('/firmware.bin', 'AA:BB:CC:DD:EE:05', 'v1.0.0');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, v100);
    assert.equal(await deviceRecord(server, 'aa:bb:cc:dd:ee:05'), undefined, 'the seed adds no record');
  });

  it('answers 404 "Firmware version not found." for a version that is neither running nor published', async () => {
    const res = await get('/firmware.bin', 'AA:BB:CC:DD:EE:03', 'nonexistent_version');
    assert.equal(res.status, 404);
    assert.equal(res.body.toString(), 'Firmware version not found.');
    assert.equal(await deviceRecord(server, 'aa:bb:cc:dd:ee:03'), undefined);
  });

  it('supports HEAD, Range and If-None-Match on /firmware.bin', async () => {
    const sha = createHash('sha256').update(v101).digest('hex');
    const range = await get('/firmware.bin', 'AA:BB:CC:DD:EE:04', 'v1.0.1', [
      'Range: bytes=-10',
      `If-Range: "${sha}"`,
    ]);
    assert.equal(range.status, 206);
    assert.deepEqual(range.body, v101.subarray(-10));
    const cached = await get('/firmware.bin', 'AA:BB:CC:DD:EE:04', 'v1.0.1', [`If-None-Match: "${sha}"`]);
    assert.equal(cached.status, 304);
    const head = await rawRequest(
      port,
      poll(port, '/firmware.bin', 'AA:BB:CC:DD:EE:04', 'v1.0.1').replace(/^GET/, 'HEAD'),
    );
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(v101.length));
    assert.equal(head.body.length, 0);
  });

  it('accepts the MAC spellings the seed accepts, mixed separators included', async () => {
    const res = await get('/version.txt', '00:11-22:33-44:55', 'v1.0.1');
    assert.equal(res.status, 200);
    assert.ok(await deviceRecord(server, '00:11:22:33:44:55'));
  });

  it('answers 401 Unauthorized for missing or invalid headers on both paths, and records nothing', async () => {
    const before = await deviceCount(server);
    const cases: [string | null, string | null][] = [
      [null, null],
      ['AA:BB:CC:DD:EE:10', null],
      [null, 'v1.0.0'],
      ['AA:BB:CC:DD:EE', 'v1.0.0'],
      ['AA:BB:CC:DD:EE:1G', 'v1.0.0'],
      ['AA:BB:CC:DD:EE:10x', 'v1.0.0'],
      ['AABBCCDDEE10', 'v1.0.0'],
      ['AA:BB:CC:DD:EE:10', ''],
    ];
    for (const path of ['/version.txt', '/firmware.bin']) {
      for (const [mac, fwv] of cases) {
        const res = await get(path, mac, fwv);
        assert.equal(res.status, 401, `${path} ${mac} ${fwv}`);
        assert.equal(res.body.toString(), 'Unauthorized');
      }
    }
    assert.equal(await deviceCount(server), before);
    assert.equal(await deviceRecord(server, 'aa:bb:cc:dd:ee:10'), undefined);
  });
});
