import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, publishRelease, startTestServer, type TestServer } from '../support/server.js';
import { startNginx } from '../../bench/lib/nginx.js';
import { deviceWhen, espImage, kinds } from './helpers.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MAC = '02:00:00:00:0A:CE';

const esp8266 = (version: string) => ({
  'User-Agent': 'ESP8266-http-Update',
  'x-ESP8266-Chip-ID': '15602487',
  'x-ESP8266-STA-MAC': MAC,
  'x-ESP8266-AP-MAC': MAC,
  'x-ESP8266-free-space': '4194304',
  'x-ESP8266-sketch-size': '400000',
  'x-ESP8266-sketch-md5': '00112233445566778899aabbccddeeff',
  'x-ESP8266-chip-size': '4194304',
  'x-ESP8266-sdk-version': '2.5.0',
  'x-ESP8266-mode': 'sketch',
  'x-ESP8266-version': version,
});

/**
 * `--accel-redirect-prefix`: Updraft answers a download with headers only and `X-Accel-Redirect` naming the blob
 * under nginx's internal location (docs/deployment.md); nginx sends the body. The last case puts Debian's nginx
 * in front, configured as the benchmark (bench/cases/http-download.ts) and docs/deployment.md configure it.
 */
describe('X-Accel-Redirect offload', () => {
  let server: TestServer;
  const image = espImage(64 * 1024, 7);

  before(async () => {
    server = await startTestServer({ accelRedirectPrefix: '/_blobs' });
    await publishRelease(server, 'lamp', '2.0.0', { 'firmware.bin': image });
  });
  after(() => server.close());

  it('answers 200 with the device headers, no body, and the blob path under the prefix', async () => {
    const res = await fetch(`${server.url}/lamp`, { headers: esp8266('1.0.0') });
    assert.equal(res.status, 200);
    const hash = sha256(image);
    const target = `/_blobs/sha256/${hash.slice(0, 2)}/${hash}`;
    assert.equal(res.headers.get('x-accel-redirect'), target);
    assert.equal(res.headers.get('x-md5'), md5(image));
    assert.equal(res.headers.get('x-version'), '2.0.0');
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.equal(res.headers.get('etag'), `"${hash}"`);
    assert.match(res.headers.get('content-disposition') ?? '', /firmware\.bin/);
    // Updraft's own answer has an empty body and says so (nginx keeps its upstream connection for the next
    // download); nginx computes the device's Content-Length from the file (the real-nginx case below).
    assert.equal(res.headers.get('content-length'), '0');
    assert.equal((await res.arrayBuffer()).byteLength, 0);
    // The path names a real file under <data>/blobs/, which the nginx location aliases.
    const file = await stat(join(server.dataDir, 'blobs', target.slice('/_blobs/'.length)));
    assert.equal(file.size, image.length);

    const device = await deviceWhen(server, MAC, (d) => kinds(d).includes('download-started'));
    assert.ok(kinds(device).includes('download-started'));
  });

  it('still answers 304 itself when the device runs the published version', async () => {
    const res = await fetch(`${server.url}/lamp`, { headers: esp8266('2.0.0') });
    assert.equal(res.status, 304);
    assert.equal(res.headers.get('x-accel-redirect'), null);
  });

  it('without the option the body is streamed by Node', async () => {
    const plain = await startTestServer();
    try {
      await publishRelease(plain, 'lamp', '2.0.0', { 'firmware.bin': image });
      const res = await fetch(`${plain.url}/lamp`, { headers: esp8266('1.0.0') });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-accel-redirect'), null);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), image);
    } finally {
      await plain.close();
    }
  });

  it("behind Debian's nginx: the device gets the whole image with its length and headers, over kept connections", async () => {
    const prefix = await mkdtemp(join(tmpdir(), 'updraft-accel-nginx-'));
    const [directPort, accelPort] = [await freePort(), await freePort()];
    const nginx = await startNginx({
      prefix,
      blobs: join(server.dataDir, 'blobs'),
      directPort,
      accelPort,
      updraftPort: Number(new URL(server.url).port),
      accelPrefix: '/_blobs',
    });
    try {
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`http://127.0.0.1:${accelPort}/lamp`, { headers: esp8266('1.0.0') });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-length'), String(image.length));
        assert.equal(res.headers.get('x-md5'), md5(image));
        assert.equal(res.headers.get('x-version'), '2.0.0');
        assert.deepEqual(Buffer.from(await res.arrayBuffer()), image);
      }
      // A Range through nginx is served from the file too.
      const part = await fetch(`http://127.0.0.1:${accelPort}/lamp`, {
        headers: { ...esp8266('1.0.0'), Range: 'bytes=100-199' },
      });
      assert.equal(part.status, 206);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), image.subarray(100, 200));
    } finally {
      await nginx.proc.stop();
      await rm(prefix, { recursive: true, force: true });
    }
  });
});
