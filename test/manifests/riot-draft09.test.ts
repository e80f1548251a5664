import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateSigningKey, loadPublicKey } from '../../src/core/manifests/keys.js';
import { inspectEnvelope } from '../../src/core/manifests/inspect.js';
import { decodeEnvelopeTree, encodeEnvelopeTree } from '../../src/core/manifests/tree.js';
import { imageDigest, verifyEnvelope } from '../../src/core/manifests/verify.js';
import { fixture } from './fixtures.js';

const signed = fixture('riot-draft09/riot.suit.1700000000.bin');
const tampered = fixture('riot-draft09/riot.suit.1700000000.tampered.bin');
const unsigned = fixture('riot-draft09/riot.suit_unsigned.1700000000.bin');
const slot0 = fixture('riot-draft09/slot0.1700000000.bin');
const slot1 = fixture('riot-draft09/slot1.1700000000.bin');
const pem = fixture('riot-draft09/test-only-ed25519-public.pem');
const raw = fixture('riot-draft09/test-only-ed25519-public.raw');
const images = { 'slot0.1700000000.bin': slot0, 'slot1.1700000000.bin': slot1 };
const root = 'coap://[fd00:dead:beef::1]/fw/suit_update/samr21-xpro/';

describe('RIOT draft-09 manifest made by RIOT’s own suit-tool', () => {
  it('verifies with the PEM key and with the 32 raw bytes a RIOT build compiles in', () => {
    for (const key of [pem, raw]) {
      const result = verifyEnvelope(signed, { trustedKeys: [key], images });
      assert.deepEqual(result.errors, []);
      assert.equal(result.ok, true);
      assert.equal(result.format, 'riot-09');
      assert.equal(result.sequenceNumber, 1700000000);
    }
  });

  it('lists both slots with their offsets, sizes, URIs, digests and RIOT UUIDs', () => {
    const { components } = verifyEnvelope(signed, { trustedKeys: [pem] });
    assert.deepEqual(
      components.map((c) => ({
        key: c.key,
        index: c.index,
        id: c.id,
        offset: c.offset,
        size: c.size,
        uri: c.uri,
      })),
      [
        { key: '0@4096', index: 0, id: '00', offset: 4096, size: 40000, uri: `${root}slot0.1700000000.bin` },
        {
          key: '0@133120',
          index: 0,
          id: '00',
          offset: 133120,
          size: 40000,
          uri: `${root}slot1.1700000000.bin`,
        },
      ],
    );
    assert.equal(components[0]?.digest, imageDigest('riot-09', slot0).bytes.toString('hex'));
    assert.equal(components[1]?.digest, imageDigest('riot-09', slot1).bytes.toString('hex'));
    for (const c of components) {
      assert.equal(c.digestAlgorithm, 'sha256');
      assert.equal(c.vendorId, '547d0d74-6d3a-5a92-9662-4881afd9407b');
      assert.equal(c.classId, '8818989e-a257-5994-ac9a-554b77898083');
    }
  });

  it('matches images by component key as well as by file name, and by digest alone', () => {
    const byKey = verifyEnvelope(signed, {
      trustedKeys: [pem],
      images: { '0@4096': slot0, '0@133120': slot1 },
    });
    assert.equal(byKey.ok, true);
    const byDigest = verifyEnvelope(signed, {
      trustedKeys: [pem],
      images: new Map([
        ['0@4096', imageDigest('riot-09', slot0)],
        ['0@133120', imageDigest('riot-09', slot1)],
      ]),
    });
    assert.equal(byDigest.ok, true);
  });

  it('rejects the tampered manifest: its signature verifies, the manifest digest does not', () => {
    const result = verifyEnvelope(tampered, { trustedKeys: [pem], images });
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.errors.map((e) => e.code),
      ['DIGEST_MISMATCH'],
    );
    assert.match(result.errors[0]?.message ?? '', /manifest digest/);
  });

  it('reports a flipped byte in a slot image as a digest mismatch of that slot', () => {
    const bad = Buffer.from(slot1);
    bad[12345] = (bad[12345] ?? 0) ^ 0x01;
    const result = verifyEnvelope(signed, {
      trustedKeys: [pem],
      images: { 'slot0.1700000000.bin': slot0, 'slot1.1700000000.bin': bad },
    });
    assert.equal(result.ok, false);
    assert.deepEqual(result.errors, [
      { code: 'DIGEST_MISMATCH', message: 'image slot1.1700000000.bin does not match component 0@133120' },
    ]);
  });

  it('reports swapped slot images, a missing image and an unknown one', () => {
    const swapped = verifyEnvelope(signed, {
      trustedKeys: [pem],
      images: { '0@4096': slot1, '0@133120': slot0 },
    });
    assert.equal(swapped.errors.length, 2);
    const partial = verifyEnvelope(signed, {
      trustedKeys: [pem],
      images: { '0@4096': slot0, 'other.bin': slot1 },
    });
    assert.deepEqual(
      partial.errors.map((e) => e.message),
      ['no image supplied for component 0@133120', 'image other.bin matches no component'],
    );
  });

  it('says "signature invalid" for a key that did not sign it', () => {
    const other = loadPublicKey(generateSigningKey('ed25519').publicKeyPem);
    const result = verifyEnvelope(signed, { trustedKeys: [other], images });
    assert.deepEqual(
      result.errors.map((e) => e.code),
      ['SIGNATURE_INVALID'],
    );
    assert.equal(
      verifyEnvelope(signed, { trustedKeys: [other, raw] }).ok,
      true,
      'any trusted key may verify',
    );
  });

  it('reports the unsigned envelope as unsigned', () => {
    const result = verifyEnvelope(unsigned, { trustedKeys: [pem], images });
    assert.deepEqual(
      result.errors.map((e) => e.code),
      ['SIGNATURE_INVALID'],
    );
  });

  it('reports bytes that are not an envelope as an invalid manifest, without throwing', () => {
    for (const junk of [Buffer.from('not cbor at all'), signed.subarray(0, 100), Buffer.from([0xa0])]) {
      const result = verifyEnvelope(junk, { trustedKeys: [pem] });
      assert.equal(result.ok, false);
      assert.equal(result.errors[0]?.code, 'MANIFEST_INVALID');
    }
  });

  it('re-encodes all three envelopes byte for byte from their decoded structure', () => {
    for (const bytes of [signed, tampered, unsigned]) {
      const tree = decodeEnvelopeTree(bytes);
      assert.equal(tree.format, 'riot-09');
      assert.deepEqual(encodeEnvelopeTree(tree), bytes);
    }
  });

  it('inspects into named, readable fields', () => {
    const out = inspectEnvelope(signed);
    assert.equal(out.format, 'riot-09');
    assert.equal(out.size, 495);
    const manifest = out.manifest as Record<string, unknown>;
    assert.equal(manifest['manifest-sequence-number'], 1700000000);
    const auth = out['authentication-wrapper'] as Array<Record<string, unknown>>;
    assert.equal(auth[0]?.alg, 'EdDSA');
    const text = JSON.stringify(out);
    assert.match(text, /"condition-component-offset":5/);
    assert.match(text, /"vendor-id":"547d0d74-6d3a-5a92-9662-4881afd9407b"/);
    assert.match(text, /slot1\.1700000000\.bin/);
  });
});
