import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { createSignedRiotManifest, verifyEnvelope } from '../../src/core/manifests/index.js';
import { riotbootHeader } from '../../src/core/manifests/riotboot.js';
import { createFsKeyStore } from '../../src/storage/keys/fs-key-store.js';
import { releaseForm, tempDir, type TestServer } from '../support/server.js';
import { coapClient, startCoapTestServer } from '../coap-devices/helpers.js';

const BOARD = 'samr21-xpro';
const PUBLIC = 'coap://[2001:db8::1]';
/** A slot image as riotboot.mk builds it: the 16-byte riotboot header, then the firmware. */
const slotImage = (version: number, start: number, size = 3000) =>
  Buffer.concat([riotbootHeader(version, start), randomBytes(size)]);

interface ErrorBody {
  code: string;
  message: string;
}
interface ReleaseBody {
  artifacts: { name: string; sha256: string }[];
}

/** A RIOT product signed with the `riot` key, for BOARD, with riotboot's slot offsets (and `suit` overrides). */
async function createRiotProduct(
  server: { api(path: string, init?: RequestInit): Promise<Response> },
  name: string,
  suit: Record<string, unknown> = {},
): Promise<void> {
  const res = await server.api('/api/v1/products', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name,
      deviceFamily: 'riot',
      hardwareClass: BOARD,
      settings: { suit: { key: 'riot', slot0Offset: 0x1000, slot1Offset: 0x20800, ...suit } },
    }),
  });
  assert.equal(res.status, 201, await res.text());
}

describe('RIOT: what RIOT devices need from a release (device-protocols.md §10)', () => {
  let server: TestServer;
  let url: string;
  let dataDir: string;
  let key: KeyObject;
  let publicKey: KeyObject;

  const product = (name: string, suit: Record<string, unknown> = {}) => createRiotProduct(server, name, suit);
  const upload = (name: string, version: string, files: Record<string, Buffer>) =>
    server.api(`/api/v1/products/${encodeURIComponent(name)}/releases`, {
      method: 'POST',
      body: releaseForm(version, files, { publish: 'true' }),
    });
  const manifestOf = async (name: string, release: ReleaseBody) => {
    const artifact = release.artifacts.find((a) => /^riot\.suit\.\d+\.bin$/.test(a.name));
    assert.ok(artifact);
    const res = await server.api(
      `/api/v1/products/${encodeURIComponent(name)}/releases/1.0.0/artifacts/${artifact.name}`,
    );
    assert.equal(res.status, 200);
    return Buffer.from(await res.arrayBuffer());
  };
  const signed = (seq: number, uris: [string, string], slots: [Buffer, Buffer]) =>
    createSignedRiotManifest(
      {
        sequenceNumber: seq,
        board: BOARD,
        slots: [
          { offset: 0x1000, uri: uris[0], image: slots[0] },
          { offset: 0x20800, uri: uris[1], image: slots[1] },
        ],
      },
      key,
    );

  before(async () => {
    dataDir = await tempDir();
    const keys = createFsKeyStore({ dir: join(dataDir, 'keys') });
    await keys.generate('riot', 'ed25519');
    key = await keys.privateKey('riot');
    publicKey = await keys.publicKey('riot');
    ({ server, url } = await startCoapTestServer({ dataDir, coapPublicUrl: PUBLIC }));
  });
  after(() => server.close());

  it('refuses slot images without a valid riotboot header with 422, unless the product turns the check off', async () => {
    await product('headers');
    const broken = slotImage(1, 0x1100);
    broken.writeUInt32LE(0, 12); // checksum
    for (const [what, slot0] of [
      ['no header', randomBytes(3000)],
      ['wrong checksum', broken],
      ['too short', Buffer.from('RIOT')],
    ] as const) {
      const res = await upload('headers', '1.0.0', { slot0, slot1: slotImage(1, 0x20900) });
      assert.equal(res.status, 422, what);
      const body = (await res.json()) as ErrorBody;
      assert.equal(body.code, 'IMAGE_INVALID', what);
      assert.match(body.message, /riotboot/);
    }
    assert.equal((await server.api('/api/v1/products/headers/releases/1.0.0')).status, 404, 'nothing kept');
    const ok = await upload('headers', '1.0.0', {
      slot0: slotImage(1, 0x1100),
      slot1: slotImage(1, 0x20900),
    });
    assert.equal(ok.status, 201, await ok.clone().text());
    await product('headers-off', { checkRiotbootHeader: false });
    assert.equal((await upload('headers-off', '1.0.0', { slot0: randomBytes(100) })).status, 201);
  });

  it('generates slot URIs under 128 bytes for product names up to 128 characters, served over CoAP', async () => {
    const name = `a-riot-application-with-a-very-long-name-${'x'.repeat(128 - 41)}`;
    assert.equal(name.length, 128);
    await product(name);
    const slot0 = slotImage(2, 0x1100, 5000);
    const slot1 = slotImage(2, 0x20900, 5000);
    const res = await upload(name, '1.0.0', { slot0, slot1 });
    assert.equal(res.status, 201, await res.clone().text());
    const release = (await res.json()) as ReleaseBody;
    const manifest = await manifestOf(name, release);
    const uris = verifyEnvelope(manifest, { trustedKeys: [publicKey] }).components.map((c) => c.uri ?? '');
    assert.equal(uris.length, 2);
    for (const uri of uris) {
      assert.ok(Buffer.byteLength(uri) < 128, `${uri}: ${Buffer.byteLength(uri)} bytes`);
      assert.match(uri, /^coap:\/\/\[2001:db8::1\]\/fw\/d\/[0-9a-f]{16}$/);
    }
    // The device fetches each URI from this server: the path part, block-wise, byte for byte.
    for (const [i, image] of [slot0, slot1].entries()) {
      const out = join(dataDir, `fetched-${i}.bin`);
      await coapClient(['-m', 'get', '-b', '64', '-o', out, `${url}${new URL(uris[i] as string).pathname}`]);
      assert.ok((await readFile(out)).equals(image), `slot${i}`);
    }
    // And the release is reachable by that name through the API (fastify's 100-character default refused it).
    const listed = await server.api(`/api/v1/products/${name}/releases/1.0.0`);
    assert.equal(listed.status, 200);
    // A short product keeps RIOT's own layout.
    await product('short-app');
    const short = (await (
      await upload('short-app', '1.0.0', { slot0: slotImage(3, 0x1100), slot1: slotImage(3, 0x20900) })
    ).json()) as ReleaseBody;
    const shortUris = verifyEnvelope(await manifestOf('short-app', short), {
      trustedKeys: [publicKey],
    }).components.map((c) => c.uri);
    assert.match(
      shortUris[0] ?? '',
      /^coap:\/\/\[2001:db8::1\]\/fw\/short-app\/samr21-xpro\/slot0\.\d+\.bin$/,
    );
  });

  it('refuses uploaded manifests whose URIs do not fit RIOT or name another host, and changes nothing', async () => {
    await product('uploads');
    const s0 = slotImage(4, 0x1100);
    const s1 = slotImage(4, 0x20900);
    const seq = 1_900_000_000;
    const own = (slot: string) => `${PUBLIC}/fw/uploads/${BOARD}/${slot}.${seq}.bin`;
    const cases: [string, [string, string], RegExp][] = [
      ['a URI of 128 bytes', [uriOfLength(128, seq), own('slot1')], /128 bytes/],
      [
        'another host',
        ['coap://[2001:db8::66]/fw/uploads/samr21-xpro/slot0.1900000000.bin', own('slot1')],
        /host/,
      ],
      ['another product', [`${PUBLIC}/fw/other/${BOARD}/slot0.${seq}.bin`, own('slot1')], /not a resource/],
    ];
    for (const [what, uris, message] of cases) {
      const res = await upload('uploads', '1.0.0', {
        manifest: signed(seq, uris, [s0, s1]),
        slot0: s0,
        slot1: s1,
      });
      assert.equal(res.status, 422, what);
      const body = (await res.json()) as ErrorBody;
      assert.equal(body.code, 'MANIFEST_INVALID', what);
      assert.match(body.message, message, what);
    }
    assert.equal((await server.api('/api/v1/products/uploads/releases/1.0.0')).status, 404);
    // The same sequence number is still usable: a refused upload burns none.
    const ok = await upload('uploads', '1.0.0', {
      // RIOT's layout and the short digest path both name this server (the default port spelled out or not).
      manifest: signed(seq, [own('slot0'), `${PUBLIC}:5683/fw/d/${sha16(s1)}`], [s0, s1]),
      slot0: s0,
      slot1: s1,
    });
    assert.equal(ok.status, 201, await ok.clone().text());
    // The operator may allow other hosts explicitly.
    await product('mirrored', { allowedUriHosts: ['[2001:db8::66]'] });
    const mirrored = await upload('mirrored', '1.0.0', {
      manifest: signed(
        seq,
        ['coap://[2001:db8::66]/a/slot0.bin', 'coap://[2001:db8::66]/a/slot1.bin'],
        [s0, s1],
      ),
      slot0: s0,
      slot1: s1,
    });
    assert.equal(mirrored.status, 201, await mirrored.clone().text());
  });
});

describe('RIOT: uploaded manifests on a server without --coap-public-url', () => {
  let server: TestServer;
  let key: KeyObject;
  const seq = 1_900_000_000;
  const s0 = slotImage(5, 0x1100);
  const s1 = slotImage(5, 0x20900);
  const upload = (product: string, uris: [string, string]) =>
    server.api(`/api/v1/products/${product}/releases`, {
      method: 'POST',
      body: releaseForm(
        '1.0.0',
        {
          manifest: createSignedRiotManifest(
            {
              sequenceNumber: seq,
              board: BOARD,
              slots: [
                { offset: 0x1000, uri: uris[0], image: s0 },
                { offset: 0x20800, uri: uris[1], image: s1 },
              ],
            },
            key,
          ),
          slot0: s0,
          slot1: s1,
        },
        { publish: 'true' },
      ),
    });

  before(async () => {
    const dataDir = await tempDir();
    const keys = createFsKeyStore({ dir: join(dataDir, 'keys') });
    await keys.generate('riot', 'ed25519');
    key = await keys.privateKey('riot');
    ({ server } = await startCoapTestServer({ dataDir }));
    for (const [name, suit] of [
      ['local', {}],
      ['mirrored', { allowedUriHosts: ['[2001:db8::66]'] }],
    ] as const) {
      await createRiotProduct(server, name, suit);
    }
  });
  after(() => server.close());

  it('refuses URIs naming a host that is not this machine, and accepts its own addresses', async () => {
    const path = (product: string, slot: string) => `/fw/${product}/${BOARD}/${slot}.${seq}.bin`;
    const elsewhere = await upload('local', [
      `coap://[2001:db8::66]${path('local', 'slot0')}`,
      `coap://[2001:db8::66]${path('local', 'slot1')}`,
    ]);
    assert.equal(elsewhere.status, 422);
    const body = (await elsewhere.json()) as ErrorBody;
    assert.equal(body.code, 'MANIFEST_INVALID');
    assert.match(body.message, /not an address of this server.*--coap-public-url/);
    assert.equal((await server.api('/api/v1/products/local/releases/1.0.0')).status, 404, 'nothing kept');
    // The loopback addresses are this machine's: the same path on them is this server's resource.
    const own = await upload('local', [
      `coap://[::1]${path('local', 'slot0')}`,
      `coap://127.0.0.1:5683/fw/d/${sha16(s1)}`,
    ]);
    assert.equal(own.status, 201, await own.clone().text());
    const mirrored = await upload('mirrored', [
      'coap://[2001:db8::66]/a/slot0.bin',
      'coap://[2001:db8::66]/a/slot1.bin',
    ]);
    assert.equal(mirrored.status, 201, await mirrored.clone().text());
  });
});

const sha16 = (image: Buffer): string => createHash('sha256').update(image).digest('hex').slice(0, 16);

/** A URI of exactly `bytes` bytes under this server's path for the product. */
function uriOfLength(bytes: number, seq: number): string {
  const head = `${PUBLIC}/fw/uploads/${BOARD}/`;
  const tail = `/slot0.${seq}.bin`;
  return `${head}${'p'.repeat(bytes - head.length - tail.length)}${tail}`;
}
