import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { signEsp8266Image, verifyEsp32Image } from '../../src/core/manifests/index.js';
import { createFsKeyStore } from '../../src/storage/keys/fs-key-store.js';
import type { KeyStore } from '../../src/core/keys/index.js';
import { openssl, scratch } from '../manifests/fixtures.js';
import { releaseForm, startTestServer, tempDir, type TestServer } from '../support/server.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const json = { 'content-type': 'application/json' };

interface ReleaseBody {
  artifacts: { name: string; size: number; md5: string }[];
}

describe('signed ESP images at publish time', () => {
  let server: TestServer;
  let dataDir: string;
  let keys: KeyStore;
  const image = randomBytes(150_000);
  const spiffs = randomBytes(4096);

  async function product(name: string, espSigning: Record<string, unknown>): Promise<void> {
    const res = await server.api('/api/v1/products', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name, deviceFamily: String(espSigning.format), settings: { espSigning } }),
    });
    assert.equal(res.status, 201);
  }

  const upload = (productName: string, version: string, files: Record<string, Buffer>) =>
    server.api(`/api/v1/products/${productName}/releases`, {
      method: 'POST',
      body: releaseForm(version, files, { publish: 'true' }),
    });

  async function download(productName: string, version: string, name: string) {
    const res = await server.api(`/api/v1/products/${productName}/releases/${version}/artifacts/${name}`);
    assert.equal(res.status, 200);
    return { bytes: Buffer.from(await res.arrayBuffer()), xmd5: res.headers.get('x-md5') };
  }

  before(async () => {
    dataDir = await tempDir();
    keys = createFsKeyStore({ dir: join(dataDir, 'keys') });
    await keys.generate('esp-rsa', 'rsa2048');
    await keys.generate('esp-ec', 'es256');
    await keys.generate('suit-only', 'ed25519');
    server = await startTestServer({ dataDir });
  });
  after(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('ESP8266: appends the RSA PKCS#1 v1.5 signature and its length; md5 and x-MD5 cover the signed file', async () => {
    await product('esp8266-signed', { format: 'esp8266', key: 'esp-rsa' });
    const res = await upload('esp8266-signed', '1.0.0', { 'firmware.bin': image, spiffs });
    assert.equal(res.status, 201, await res.clone().text());
    const release = (await res.json()) as ReleaseBody;
    const { bytes, xmd5 } = await download('esp8266-signed', '1.0.0', 'firmware.bin');
    assert.equal(bytes.length, image.length + 256 + 4);
    assert.deepEqual(
      bytes.subarray(bytes.length - 4),
      Buffer.from([0x00, 0x01, 0x00, 0x00]),
      'uint32_le(256)',
    );
    assert.deepEqual(bytes.subarray(0, image.length), image);

    const files = scratch();
    try {
      const pub = files.write('pub.pem', (await keys.info('esp-rsa')).publicKeyPem);
      const body = files.write('body.bin', bytes.subarray(0, bytes.length - 260));
      const sig = files.write('sig.bin', bytes.subarray(bytes.length - 260, bytes.length - 4));
      const verified = openssl(['dgst', '-sha256', '-verify', pub, '-signature', sig, body]);
      assert.equal(verified.status, 0, verified.output);
      assert.match(verified.output, /Verified OK/);
    } finally {
      files.done();
    }

    const artifact = release.artifacts.find((a) => a.name === 'firmware.bin');
    assert.equal(artifact?.md5, md5(bytes));
    assert.equal(artifact?.size, bytes.length);
    assert.equal(xmd5, md5(bytes));
    assert.deepEqual(
      (await download('esp8266-signed', '1.0.0', 'spiffs')).bytes,
      spiffs,
      'only the app image is signed',
    );
  });

  it('leaves an image already signed by the product key as it is', async () => {
    const presigned = signEsp8266Image(image, await keys.privateKey('esp-rsa'));
    const res = await upload('esp8266-signed', '1.0.1', { 'firmware.bin': presigned });
    assert.equal(res.status, 201);
    assert.deepEqual((await download('esp8266-signed', '1.0.1', 'firmware.bin')).bytes, presigned);
  });

  it('ESP32: a 512-byte trailer with a DER ECDSA signature (P-256 key)', async () => {
    await product('esp32-signed', { format: 'esp32', key: 'esp-ec' });
    const res = await upload('esp32-signed', '1.0.0', { 'ota.bin': image });
    assert.equal(res.status, 201, await res.clone().text());
    const { bytes, xmd5 } = await download('esp32-signed', '1.0.0', 'ota.bin');
    assert.equal(bytes.length, image.length + 512);
    const verified = verifyEsp32Image(bytes, await keys.publicKey('esp-ec'));
    assert.ok(verified.ok, verified.error);
    assert.equal(xmd5, md5(bytes));
  });

  it('refuses a key that cannot sign the format, and publishes nothing', async () => {
    await product('esp8266-wrong-key', { format: 'esp8266', key: 'suit-only' });
    const res = await upload('esp8266-wrong-key', '1.0.0', { 'firmware.bin': image });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, 'KEY_INVALID');
    await product('esp8266-no-key', { format: 'esp8266', key: 'missing' });
    const missing = await upload('esp8266-no-key', '1.0.0', { 'firmware.bin': image });
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { code: string }).code, 'KEY_NOT_FOUND');
    for (const name of ['esp8266-wrong-key', 'esp8266-no-key']) {
      const list = (await (await server.api(`/api/v1/products/${name}/releases`)).json()) as {
        items: unknown[];
      };
      assert.deepEqual(list.items, []);
    }
  });
});
