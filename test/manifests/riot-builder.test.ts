import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  decodeCbor,
  encodeCbor,
  expectArray,
  expectBytes,
  expectMap,
  Tag,
} from '../../src/core/manifests/cbor.js';
import { sigStructure } from '../../src/core/manifests/cose-sign1.js';
import { generateSigningKey, loadPrivateKey } from '../../src/core/manifests/keys.js';
import {
  RIOT_MANIFEST_MAX_BYTES,
  buildUnsignedRiotEnvelope,
  createSignedRiotManifest,
  type RiotManifestInput,
} from '../../src/core/manifests/riot-manifest-builder.js';
import { formatUuid, riotClassId, riotVendorId } from '../../src/core/manifests/uuid.js';
import { verifyEnvelope } from '../../src/core/manifests/verify.js';
import { fixture, openssl, scratch } from './fixtures.js';

const slot0 = fixture('riot-draft09/slot0.1700000000.bin');
const slot1 = fixture('riot-draft09/slot1.1700000000.bin');
const privateKey = loadPrivateKey(fixture('riot-draft09/test-only-ed25519-private.pem'));
const publicPem = fixture('riot-draft09/test-only-ed25519-public.pem');

interface GeneratorInput {
  'manifest-sequence-number': number;
  components: Array<{ 'vendor-id': string; 'class-id': string; file: string; uri: string; offset: number }>;
}
/** The generator input RIOT's suit-tool was run with (m.json), turned into the builder's input. */
const m = JSON.parse(fixture('riot-draft09/m.json').toString('utf8')) as GeneratorInput;
const input: RiotManifestInput = {
  sequenceNumber: m['manifest-sequence-number'],
  board: 'samr21-xpro',
  slots: m.components.map((c) => ({
    offset: c.offset,
    uri: c.uri,
    image: fixture(`riot-draft09/${c.file}`),
  })),
};

describe('RIOT manifest builder', () => {
  it('derives the vendor and class ids m.json carries (UUID5 riot-os.org, then UUID5 of the board)', () => {
    assert.equal(riotVendorId().toString('hex'), m.components[0]?.['vendor-id']);
    assert.equal(riotClassId('samr21-xpro').toString('hex'), m.components[0]?.['class-id']);
    assert.equal(formatUuid(riotClassId('native')), 'bcc90984-fe7d-562b-b4c9-a24f26a3a9cd');
  });

  it('builds the unsigned envelope byte for byte as RIOT’s suit-tool did from m.json', () => {
    assert.deepEqual(
      buildUnsignedRiotEnvelope(input),
      fixture('riot-draft09/riot.suit_unsigned.1700000000.bin'),
    );
  });

  it('signs it byte for byte as suit-tool did (Ed25519 is deterministic)', () => {
    assert.deepEqual(
      createSignedRiotManifest(input, privateKey),
      fixture('riot-draft09/riot.suit.1700000000.bin'),
    );
  });

  it('builds the same manifest from stored digests and sizes as from the images', () => {
    const fromDigests: RiotManifestInput = {
      ...input,
      slots: input.slots.map((s) => ({
        offset: s.offset,
        uri: s.uri,
        sha256: createHash('sha256')
          .update(s.image ?? Buffer.alloc(0))
          .digest(),
        size: s.image?.length ?? 0,
      })),
    };
    assert.deepEqual(buildUnsignedRiotEnvelope(fromDigests), buildUnsignedRiotEnvelope(input));
  });

  describe('a manifest for another product, key and sequence number', () => {
    const key = generateSigningKey('ed25519');
    const other: RiotManifestInput = {
      sequenceNumber: 1800000001,
      board: 'nrf52840dk',
      slots: [
        { offset: 0x1000, uri: 'coap://[2001:db8::1]/fw/demo/nrf52840dk/slot0.1800000001.bin', image: slot0 },
        {
          offset: 0x80800,
          uri: 'coap://[2001:db8::1]/fw/demo/nrf52840dk/slot1.1800000001.bin',
          image: slot1,
        },
      ],
    };
    const manifest = createSignedRiotManifest(other, loadPrivateKey(key.privateKeyPem));

    it('fits RIOT’s 640-byte manifest buffer', () => {
      assert.ok(manifest.length <= RIOT_MANIFEST_MAX_BYTES, `${manifest.length} bytes`);
    });

    it('passes the verifier with both slot digests', () => {
      const result = verifyEnvelope(manifest, {
        trustedKeys: [key.publicKeyPem],
        images: { 'slot0.1800000001.bin': slot0, 'slot1.1800000001.bin': slot1 },
      });
      assert.deepEqual(result.errors, []);
      assert.equal(result.sequenceNumber, 1800000001);
      assert.deepEqual(
        result.components.map((c) => [c.offset, c.classId]),
        [
          [0x1000, formatUuid(riotClassId('nrf52840dk'))],
          [0x80800, formatUuid(riotClassId('nrf52840dk'))],
        ],
      );
    });

    it('is rejected under the fixture’s key and when a slot image changes', () => {
      assert.deepEqual(
        verifyEnvelope(manifest, { trustedKeys: [publicPem] }).errors.map((e) => e.code),
        ['SIGNATURE_INVALID'],
      );
      const bad = Buffer.from(slot0);
      bad[0] = (bad[0] ?? 0) ^ 0xff;
      const result = verifyEnvelope(manifest, {
        trustedKeys: [key.publicKeyPem],
        images: { 'slot0.1800000001.bin': bad, 'slot1.1800000001.bin': slot1 },
      });
      assert.deepEqual(
        result.errors.map((e) => e.code),
        ['DIGEST_MISMATCH'],
      );
    });

    it('verifies independently: Sig_structure rebuilt here, checked by openssl, digest recomputed', () => {
      const envelope = expectMap(decodeCbor(manifest, 'envelope'), 'envelope');
      const auth = expectArray(decodeCbor(expectBytes(envelope.get(2), 'auth'), 'auth'), 'auth');
      assert.equal(auth.length, 1);
      const cose = decodeCbor(expectBytes(auth[0], 'cose'), 'cose');
      assert.ok(cose instanceof Tag && cose.tag === 18);
      const [protectedBytes, unprotected, payload, signature] = cose.value as [
        Buffer,
        Map<unknown, unknown>,
        Buffer,
        Buffer,
      ];
      assert.deepEqual(protectedBytes, Buffer.from('a10127', 'hex'), 'protected header {1: -8} (EdDSA)');
      assert.equal(unprotected.size, 0);
      assert.equal(signature.length, 64);

      // The payload is the SUIT_Digest [2, sha256(bstr-wrapped manifest)] (RIOT handlers_envelope.c).
      const manifestWithHeader = encodeCbor(expectBytes(envelope.get(3), 'manifest'));
      const expectedPayload = Buffer.concat([
        Buffer.from('82025820', 'hex'),
        createHash('sha256').update(manifestWithHeader).digest(),
      ]);
      assert.deepEqual(payload, expectedPayload);

      // RFC 9052 §4.4, written out by hand rather than through the module under test.
      const byHand = Buffer.concat([
        Buffer.from([0x84, 0x6a]),
        Buffer.from('Signature1'),
        Buffer.from([0x43]),
        protectedBytes,
        Buffer.from([0x40, 0x58, payload.length]),
        payload,
      ]);
      assert.deepEqual(sigStructure(protectedBytes, payload), byHand);

      const tmp = scratch();
      try {
        const pub = tmp.write('pub.pem', key.publicKeyPem);
        const data = tmp.write('sig-structure.bin', byHand);
        const sig = tmp.write('sig.bin', signature);
        const good = openssl([
          'pkeyutl',
          '-verify',
          '-pubin',
          '-inkey',
          pub,
          '-rawin',
          '-in',
          data,
          '-sigfile',
          sig,
        ]);
        assert.equal(good.status, 0, good.output);
        assert.match(good.output, /Signature Verified Successfully/);
        const flipped = Buffer.from(byHand);
        flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
        const badData = tmp.write('bad.bin', flipped);
        const bad = openssl([
          'pkeyutl',
          '-verify',
          '-pubin',
          '-inkey',
          pub,
          '-rawin',
          '-in',
          badData,
          '-sigfile',
          sig,
        ]);
        assert.notEqual(bad.status, 0);
      } finally {
        tmp.done();
      }
    });
  });

  it('refuses a manifest larger than a RIOT device can take', () => {
    const long = `coap://[2001:db8::1]/${'x'.repeat(200)}/`;
    assert.throws(
      () =>
        createSignedRiotManifest(
          { ...input, slots: input.slots.map((s, i) => ({ ...s, uri: `${long}slot${i}.bin` })) },
          privateKey,
        ),
      { name: 'DomainError', code: 'MANIFEST_INVALID' },
    );
  });

  it('refuses a slot with neither image nor digest, and a negative sequence number', () => {
    assert.throws(() => buildUnsignedRiotEnvelope({ ...input, slots: [{ offset: 0, uri: 'coap://x/a' }] }), {
      code: 'INVALID_INPUT',
    });
    assert.throws(() => buildUnsignedRiotEnvelope({ ...input, sequenceNumber: -1 }), {
      code: 'INVALID_INPUT',
    });
  });

  it('builds a valid single-slot manifest', () => {
    const one = createSignedRiotManifest({ ...input, slots: input.slots.slice(0, 1) }, privateKey);
    const result = verifyEnvelope(one, {
      trustedKeys: [publicPem],
      images: { 'slot0.1700000000.bin': slot0 },
    });
    assert.deepEqual(result.errors, []);
    assert.deepEqual(
      result.components.map((c) => [c.key, c.offset]),
      [['0', 4096]],
    );
  });
});
