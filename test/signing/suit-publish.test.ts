import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyEnvelope } from '../../src/core/manifests/index.js';
import { createFsKeyStore } from '../../src/storage/keys/fs-key-store.js';
import { releaseForm, startTestServer, tempDir, type TestServer } from '../support/server.js';

const FIXTURES = new URL('../fixtures/suit/riot-draft09/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES));
const slot0 = fixture('slot0.1700000000.bin');
const slot1 = fixture('slot1.1700000000.bin');
const signedManifest = fixture('riot.suit.1700000000.bin');
const tamperedManifest = fixture('riot.suit.1700000000.tampered.bin');
const COAP_URL = 'coap://[2001:db8::1]';
const json = { 'content-type': 'application/json' };

interface ReleaseBody {
  version: string;
  artifacts: { name: string; size: number; sha256: string }[];
}
interface ErrorBody {
  code: string;
  message: string;
}

async function blobCount(dataDir: string): Promise<number> {
  const shards = await readdir(join(dataDir, 'blobs', 'sha256')).catch(() => []);
  let n = 0;
  for (const s of shards) n += (await readdir(join(dataDir, 'blobs', 'sha256', s))).length;
  return n;
}

async function createProduct(server: TestServer, body: Record<string, unknown>): Promise<void> {
  const res = await server.api('/api/v1/products', {
    method: 'POST',
    headers: json,
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 201, await res.text());
}

function upload(server: TestServer, product: string, version: string, files: Record<string, Buffer>) {
  return server.api(`/api/v1/products/${product}/releases`, {
    method: 'POST',
    body: releaseForm(version, files, { publish: 'true' }),
  });
}

async function download(server: TestServer, product: string, version: string, name: string): Promise<Buffer> {
  const res = await server.api(`/api/v1/products/${product}/releases/${version}/artifacts/${name}`);
  assert.equal(res.status, 200, name);
  return Buffer.from(await res.arrayBuffer());
}

const suitProduct = (name: string, suit: Record<string, unknown>, board = 'samr21-xpro') => ({
  name,
  deviceFamily: 'riot',
  hardwareClass: board,
  settings: { suit },
});

describe('SUIT at publish time (RIOT products)', () => {
  let server: TestServer;
  let dataDir: string;
  const seqs: number[] = [];

  before(async () => {
    dataDir = await tempDir();
    await createFsKeyStore({ dir: join(dataDir, 'keys') }).generate('riot', 'ed25519');
    server = await startTestServer({
      dataDir,
      coapPublicUrl: COAP_URL,
      // The fixture's key as a configured file: the key an external build system signed with.
      signingKeys: { fixture: { file: new URL('test-only-ed25519-public.pem', FIXTURES).pathname } },
    });
    await createProduct(
      server,
      suitProduct('suit_update', { key: 'riot', slot0Offset: 0x1000, slot1Offset: '0x20800' }),
    );
  });
  after(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('builds, signs and stores riot.suit.<seq>.bin for uploaded slot images', async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await upload(server, 'suit_update', '1.0.0', { 'slot0.1700000000.bin': slot0, slot1 });
    assert.equal(res.status, 201, await res.clone().text());
    const release = (await res.json()) as ReleaseBody;
    const names = release.artifacts.map((a) => a.name);
    assert.deepEqual(names.filter((n) => n.startsWith('slot')).sort(), ['slot0', 'slot1']);
    const manifestName = names.find((n) => /^riot\.suit\.\d+\.bin$/.test(n));
    assert.ok(manifestName, names.join());
    const seq = Number(manifestName.split('.')[2]);
    assert.ok(seq >= before, 'the first sequence number is the epoch');
    seqs.push(seq);

    const manifest = await download(server, 'suit_update', '1.0.0', manifestName);
    assert.ok(manifest.length <= 640, `${manifest.length} bytes`);
    const productKey = createFsKeyStore({ dir: join(dataDir, 'keys') });
    const result = verifyEnvelope(manifest, {
      trustedKeys: [await productKey.publicKey('riot')],
      images: { [`slot0.${seq}.bin`]: slot0, [`slot1.${seq}.bin`]: slot1 },
    });
    assert.deepEqual(result.errors, []);
    assert.equal(result.format, 'riot-09');
    assert.equal(result.sequenceNumber, seq);
    assert.deepEqual(
      result.components.map((c) => [c.uri, c.offset, c.size, c.classId]),
      [
        [
          `${COAP_URL}/fw/suit_update/samr21-xpro/slot0.${seq}.bin`,
          0x1000,
          slot0.length,
          '8818989e-a257-5994-ac9a-554b77898083',
        ],
        [
          `${COAP_URL}/fw/suit_update/samr21-xpro/slot1.${seq}.bin`,
          0x20800,
          slot1.length,
          '8818989e-a257-5994-ac9a-554b77898083',
        ],
      ],
    );
    // The fixture's key is not the product's: the manifest is really signed by the product key.
    assert.equal(
      verifyEnvelope(manifest, { trustedKeys: [fixture('test-only-ed25519-public.pem')] }).ok,
      false,
    );
  });

  it('gives the next release a larger sequence number', async () => {
    const res = await upload(server, 'suit_update', '1.1.0', { 'slot0.bin': slot0, 'slot1.bin': slot1 });
    assert.equal(res.status, 201, await res.clone().text());
    const release = (await res.json()) as ReleaseBody;
    const name = release.artifacts.map((a) => a.name).find((n) => n.startsWith('riot.suit.'));
    const seq = Number(name?.split('.')[2]);
    assert.ok(seq > (seqs[0] ?? Infinity), `${seq} > ${seqs[0]}`);
  });

  it('serves the decoded manifest at GET .../manifest, 404 when there is none', async () => {
    const res = await server.api('/api/v1/products/suit_update/releases/1.0.0/manifest');
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      artifact: string;
      format: string;
      sequenceNumber: number;
      components: unknown[];
      envelope: unknown;
    };
    assert.equal(body.artifact, `riot.suit.${seqs[0]}.bin`);
    assert.equal(body.format, 'riot-09');
    assert.equal(body.sequenceNumber, seqs[0]);
    assert.equal(body.components.length, 2);
    assert.ok(body.envelope);
    await createProduct(server, { name: 'plain', deviceFamily: 'esp8266' });
    assert.equal((await upload(server, 'plain', '1.0.0', { 'firmware.bin': slot0 })).status, 201);
    const none = await server.api('/api/v1/products/plain/releases/1.0.0/manifest');
    assert.equal(none.status, 404);
    assert.equal(((await none.json()) as ErrorBody).code, 'ARTIFACT_NOT_FOUND');
    assert.equal((await server.api('/api/v1/products/plain/releases/9.9.9/manifest')).status, 404);
  });

  it('accepts an uploaded manifest signed by a trusted key whose digests match the slots', async () => {
    await createProduct(server, suitProduct('prebuilt', { trustedKeys: ['fixture'] }));
    const res = await upload(server, 'prebuilt', '1.0.0', {
      manifest: signedManifest,
      'slot0.1700000000.bin': slot0,
      'slot1.1700000000.bin': slot1,
    });
    assert.equal(res.status, 201, await res.clone().text());
    const release = (await res.json()) as ReleaseBody;
    assert.deepEqual(release.artifacts.map((a) => a.name).sort(), [
      'riot.suit.1700000000.bin',
      'slot0',
      'slot1',
    ]);
    assert.deepEqual(await download(server, 'prebuilt', '1.0.0', 'riot.suit.1700000000.bin'), signedManifest);

    // The same sequence number again: devices would refuse it, so does Updraft.
    const again = await upload(server, 'prebuilt', '1.0.1', {
      'riot.suit.1700000000.bin': signedManifest,
      slot0,
      slot1,
    });
    assert.equal(again.status, 422);
    assert.equal(((await again.json()) as ErrorBody).code, 'MANIFEST_INVALID');
  });

  it('refuses a bad uploaded manifest with 422 and publishes nothing', async () => {
    await createProduct(server, suitProduct('refused', { trustedKeys: ['fixture'] }));
    await createProduct(server, suitProduct('other-board', { trustedKeys: ['fixture'] }, 'native'));
    await createProduct(server, suitProduct('wrong-key', { key: 'riot' }));
    const blobs = await blobCount(dataDir);
    const wrongSlot = Buffer.from(slot1);
    wrongSlot[100] = (wrongSlot[100] ?? 0) ^ 0xff;
    const cases: [string, string, Record<string, Buffer>, string][] = [
      ['tampered manifest', 'refused', { manifest: tamperedManifest, slot0, slot1 }, 'DIGEST_MISMATCH'],
      [
        'wrong slot image',
        'refused',
        { manifest: signedManifest, slot0, slot1: wrongSlot },
        'DIGEST_MISMATCH',
      ],
      ['missing slot image', 'refused', { manifest: signedManifest, slot0 }, 'DIGEST_MISMATCH'],
      ['not a manifest', 'refused', { manifest: slot0.subarray(0, 300), slot0, slot1 }, 'MANIFEST_INVALID'],
      ['another board', 'other-board', { manifest: signedManifest, slot0, slot1 }, 'MANIFEST_INVALID'],
      ['untrusted signer', 'wrong-key', { manifest: signedManifest, slot0, slot1 }, 'SIGNATURE_INVALID'],
    ];
    for (const [what, product, files, code] of cases) {
      const res = await upload(server, product, '1.0.0', files);
      assert.equal(res.status, 422, what);
      const body = (await res.json()) as ErrorBody;
      assert.equal(body.code, code, `${what}: ${body.message}`);
    }
    for (const product of ['refused', 'other-board', 'wrong-key']) {
      const list = (await (await server.api(`/api/v1/products/${product}/releases`)).json()) as {
        items: unknown[];
      };
      assert.deepEqual(list.items, [], product);
    }
    assert.equal(await blobCount(dataDir), blobs, 'no blob of a refused upload is kept');
  });

  it('explains what is missing: a key, the slot 1 offset', async () => {
    await createProduct(server, suitProduct('no-key', {}));
    await createProduct(server, suitProduct('no-offset', { key: 'riot' }));
    await createProduct(server, suitProduct('unknown-key', { key: 'nope', slot1Offset: 0x20800 }));
    const cases: [string, number, string, RegExp][] = [
      ['no-key', 404, 'KEY_NOT_FOUND', /settings\.suit\.key/],
      ['no-offset', 400, 'INVALID_INPUT', /slot1Offset/],
      ['unknown-key', 404, 'KEY_NOT_FOUND', /nope/],
    ];
    for (const [product, status, code, message] of cases) {
      const res = await upload(server, product, '1.0.0', { slot0, slot1 });
      assert.equal(res.status, status, product);
      const body = (await res.json()) as ErrorBody;
      assert.equal(body.code, code, product);
      assert.match(body.message, message);
    }
  });
});

describe('SUIT without a CoAP public URL', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('refuses to build a manifest and tells the operator to set --coap-public-url', async () => {
    await createProduct(server, suitProduct('riot-app', { key: 'riot', slot1Offset: 0x20800 }));
    const res = await upload(server, 'riot-app', '1.0.0', { slot0, slot1 });
    assert.equal(res.status, 400);
    const body = (await res.json()) as ErrorBody;
    assert.equal(body.code, 'INVALID_INPUT');
    assert.match(body.message, /--coap-public-url/);
  });
});
