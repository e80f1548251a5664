import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bufferReader, espAppImageDigest } from '../../src/core/manifests/esp-app-image.js';
import { publishRelease, startTestServer, type TestServer } from '../support/server.js';
import { httpRequest, rawRequest } from '../support/raw-http.js';

/**
 * An ESP-IDF app image as esptool `elf2image` lays it out (esp_app_format.h, esptool bin_image.py): 24-byte
 * header with `hash_appended` at offset 23, segments (8-byte header + data), padding and the checksum byte up
 * to a 16-byte boundary, then the SHA-256 of everything before it.
 */
function esp32AppImage(segments: Buffer[], hashAppended = true): { image: Buffer; digest: string } {
  const header = Buffer.alloc(24);
  header[0] = 0xe9;
  header[1] = segments.length;
  header[2] = 0x02; // DIO
  header[3] = 0x20; // 4 MB, 40 MHz
  header.writeUInt32LE(0x40080000, 4);
  header[8] = 0xee; // WP pin: not used
  header[23] = hashAppended ? 1 : 0;
  const parts: Buffer[] = [header];
  let checksum = 0xef;
  for (const [i, data] of segments.entries()) {
    const h = Buffer.alloc(8);
    h.writeUInt32LE(0x3f400020 + i * 0x10000, 0);
    h.writeUInt32LE(data.length, 4);
    parts.push(h, data);
    for (const b of data) checksum ^= b;
  }
  let body = Buffer.concat(parts);
  const padded = Math.ceil((body.length + 1) / 16) * 16;
  body = Buffer.concat([body, Buffer.alloc(padded - body.length - 1), Buffer.from([checksum])]);
  const digest = createHash('sha256').update(body).digest();
  return { image: hashAppended ? Buffer.concat([body, digest]) : body, digest: digest.toString('hex') };
}

const segmentData = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * seed) & 0xff));

describe('ESP32 app image digest (x-ESP32-sketch-sha256)', () => {
  it('finds the appended SHA-256 over image[:-32], not the file digest', async () => {
    const { image, digest } = esp32AppImage([segmentData(1000, 7), segmentData(333, 11), segmentData(4, 3)]);
    assert.equal(await espAppImageDigest(bufferReader(image)), digest);
    assert.notEqual(digest, createHash('sha256').update(image).digest('hex'));
    // An arduino-esp32 signature trailer after the image is not part of the digest.
    const signed = Buffer.concat([image, Buffer.alloc(512, 0x5a)]);
    assert.equal(await espAppImageDigest(bufferReader(signed)), digest);
  });

  it('gives no digest for images without hash_appended, corrupted ones, or other files', async () => {
    const plain = esp32AppImage([segmentData(500, 5)], false).image;
    assert.equal(await espAppImageDigest(bufferReader(Buffer.concat([plain, Buffer.alloc(32)]))), undefined);
    const { image } = esp32AppImage([segmentData(500, 5)]);
    const corrupt = Buffer.from(image);
    corrupt[100] = (corrupt[100] ?? 0) ^ 1;
    assert.equal(await espAppImageDigest(bufferReader(corrupt)), undefined);
    assert.equal(await espAppImageDigest(bufferReader(image.subarray(0, image.length - 1))), undefined);
    assert.equal(await espAppImageDigest(bufferReader(Buffer.alloc(4096, 0xff))), undefined);
    const lying = Buffer.from(image);
    lying.writeUInt32LE(0xffffff, 24 + 4); // a segment length beyond the file
    assert.equal(await espAppImageDigest(bufferReader(lying)), undefined);
  });

  describe('over HTTP, as arduino-esp32 HTTPUpdate asks', () => {
    let server: TestServer;
    const { image, digest } = esp32AppImage([segmentData(60_000, 13), segmentData(2_000, 17)]);
    const ask = (sha: string) =>
      rawRequest(
        server.httpPort,
        httpRequest([
          'GET /esp32-app HTTP/1.0',
          `Host: 127.0.0.1:${server.httpPort}`,
          'User-Agent: ESP32-http-Update',
          'Connection: close',
          'Cache-Control: no-cache',
          'x-ESP32-STA-MAC: 24:6F:28:00:00:09',
          'x-ESP32-AP-MAC: 24:6F:28:00:00:0A',
          'x-ESP32-free-space: 1966080',
          'x-ESP32-sketch-size: 62144',
          'x-ESP32-sketch-md5: ffeeddccbbaa99887766554433221100',
          // esp_partition_get_sha256 of the running partition, hex built with 'A'..'F' (HTTPUpdate.cpp).
          `x-ESP32-sketch-sha256: ${sha.toUpperCase()}`,
          'x-ESP32-chip-size: 4194304',
          'x-ESP32-sdk-version: v4.4.5',
          'x-ESP32-mode: sketch',
          'Content-Length: 0',
        ]),
      );

    before(async () => {
      server = await startTestServer();
      await publishRelease(
        server,
        'esp32-app',
        '1.0.0',
        { 'firmware.bin': image },
        { deviceFamily: 'esp32' },
      );
    });
    after(() => server.close());

    it('computes the digest at publish and shows it on the artifact', async () => {
      const release = (await (await server.api('/api/v1/products/esp32-app/releases/1.0.0')).json()) as {
        artifacts: { name: string; sha256: string; imageSha256?: string }[];
      };
      assert.equal(release.artifacts[0]?.imageSha256, digest);
      assert.notEqual(release.artifacts[0]?.sha256, digest);
    });

    it('answers 304 to a device running the image (its stored digest), 200 to any other', async () => {
      assert.equal((await ask(digest)).status, 304);
      const other = await ask('ab'.repeat(32));
      assert.equal(other.status, 200);
      assert.deepEqual(other.body, image);
    });
  });
});
