import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { publishRelease, startTestServer, type TestServer } from '../support/server.js';
import { httpRequest, rawRequest } from '../support/raw-http.js';
import { espImage } from '../devices/helpers.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MAC = 'DE:BA:7A:B1:E0:77';

/** An ESP8266 httpUpdate request, optionally resuming with Range / If-Range (a patched or proxied client). */
function espGet(port: number, extra: string[] = [], mac = MAC) {
  return rawRequest(
    port,
    httpRequest([
      'GET /resume HTTP/1.0',
      `Host: 127.0.0.1:${port}`,
      'User-Agent: ESP8266-http-Update',
      'Connection: close',
      `x-ESP8266-STA-MAC: ${mac}`,
      `x-ESP8266-AP-MAC: ${mac}`,
      'x-ESP8266-free-space: 4194304',
      'x-ESP8266-sketch-size: 400000',
      'x-ESP8266-sketch-md5: 00112233445566778899aabbccddeeff',
      'x-ESP8266-chip-size: 4194304',
      'x-ESP8266-sdk-version: 2.5.0',
      'x-ESP8266-mode: sketch',
      'x-ESP8266-version: 0.0.1',
      ...extra,
    ]),
  );
}

describe('hardening: a resumed download never splices two images (defect 2)', () => {
  let server: TestServer;
  const imageA = espImage(50_000, 1);
  const imageB = espImage(60_000, 2);

  before(async () => {
    server = await startTestServer();
    await publishRelease(server, 'resume', '1.0.0', { 'firmware.bin': imageA });
  });
  after(() => server.close());

  it('carries the artifact ETag on 200, 206, 304, 416 and HEAD', async () => {
    const etag = `"${sha256(imageA)}"`;
    const full = await espGet(server.httpPort);
    assert.equal(full.status, 200);
    assert.equal(full.headers.etag, etag);
    assert.ok(full.body.equals(imageA));
    const part = await espGet(server.httpPort, ['Range: bytes=100-199']);
    assert.equal(part.status, 206);
    assert.equal(part.headers.etag, etag);
    const unsatisfiable = await espGet(server.httpPort, ['Range: bytes=900000-']);
    assert.equal(unsatisfiable.status, 416);
    assert.equal(unsatisfiable.headers.etag, etag);
    const api = await server.api('/api/v1/products/resume/releases/1.0.0/artifacts/firmware.bin', {
      method: 'HEAD',
    });
    assert.equal(api.headers.get('etag'), etag);
    const cached = await server.api('/api/v1/products/resume/releases/1.0.0/artifacts/firmware.bin', {
      headers: { 'if-none-match': etag },
    });
    assert.equal(cached.status, 304);
    assert.equal(cached.headers.get('etag'), etag);
  });

  it('honours If-Range: a matching ETag resumes, a stale one gets the whole new image', async () => {
    const first = await espGet(server.httpPort, ['Range: bytes=0-9999']);
    assert.equal(first.status, 206);
    const etagA = first.headers.etag ?? '';
    await publishRelease(server, 'resume', '2.0.0', { 'firmware.bin': imageB });
    const stale = await espGet(server.httpPort, ['Range: bytes=10000-', `If-Range: ${etagA}`]);
    assert.equal(stale.status, 200, 'a stale If-Range must not give the tail of another image');
    assert.equal(stale.headers.etag, `"${sha256(imageB)}"`);
    assert.equal(stale.headers['content-range'], undefined);
    assert.ok(stale.body.equals(imageB));
    const fresh = await espGet(server.httpPort, ['Range: bytes=10000-', `If-Range: "${sha256(imageB)}"`]);
    assert.equal(fresh.status, 206);
    assert.ok(fresh.body.equals(imageB.subarray(10_000)));
    // An HTTP-date validator cannot be strong here (no Last-Modified): the whole image (RFC 9110 §13.1.5).
    const dated = await espGet(server.httpPort, [
      'Range: bytes=10000-',
      'If-Range: Tue, 01 Dec 2026 10:00:00 GMT',
    ]);
    assert.equal(dated.status, 200);
  });

  it('without If-Range serves a range only from the image this device started', async () => {
    const mac = 'DE:BA:7A:B1:E0:78';
    const started = await espGet(server.httpPort, ['Range: bytes=0-9999'], mac);
    assert.equal(started.status, 206);
    assert.equal(started.headers.etag, `"${sha256(imageB)}"`);
    const resumed = await espGet(server.httpPort, ['Range: bytes=10000-'], mac);
    assert.equal(resumed.status, 206, 'the same image resumes');
    assert.ok(resumed.body.equals(imageB.subarray(10_000)));
    const imageC = espImage(70_000, 3);
    await publishRelease(server, 'resume', '3.0.0', { 'firmware.bin': imageC });
    const spliced = await espGet(server.httpPort, ['Range: bytes=20000-'], mac);
    assert.equal(spliced.status, 200, 'a resume across a new release gets the whole new image');
    assert.ok(spliced.body.equals(imageC));
    // A device never seen downloading cannot resume blind either.
    const stranger = await espGet(server.httpPort, ['Range: bytes=5000-'], 'DE:BA:7A:B1:E0:79');
    assert.equal(stranger.status, 200);
    assert.ok(stranger.body.equals(imageC));
  });
});
