import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCbor, encodeCbor, expectMap, Tag } from '../../src/core/manifests/cbor.js';
import { computeDigest } from '../../src/core/manifests/digest.js';
import { manifestDigestInput } from '../../src/core/manifests/envelope.js';
import { generateSigningKey, loadPrivateKey, loadPublicKey } from '../../src/core/manifests/keys.js';
import { parseEnvelope, signEnvelope } from '../../src/core/manifests/parse.js';
import { decodeEnvelopeTree, encodeEnvelopeTree } from '../../src/core/manifests/tree.js';
import { inspectEnvelope } from '../../src/core/manifests/inspect.js';
import { verifyEnvelope } from '../../src/core/manifests/verify.js';
import { fixture, ietfExamples } from './fixtures.js';

const publicKey = loadPublicKey(fixture('ietf-draft37/public_key.pem'));
const examples = ietfExamples();
const signed = examples.filter((e) => e.signed);

describe('draft-ietf-suit-manifest-37 examples', () => {
  it('finds every envelope of the six examples', () => {
    assert.equal(examples.length, 13);
    assert.equal(signed.length, 7);
    assert.deepEqual(
      examples.filter((e) => e.example === 0).map((e) => e.bytes.length),
      [161, 237],
    );
  });

  for (const e of examples) {
    describe(`example ${e.example}, ${e.bytes.length} bytes`, () => {
      it('re-encodes its fully decoded structure to the same bytes', () => {
        const tree = decodeEnvelopeTree(e.bytes);
        assert.equal(tree.format, 'ietf-37');
        assert.ok(tree.root instanceof Tag && tree.root.tag === 107);
        assert.deepEqual(encodeEnvelopeTree(tree), e.bytes);
      });

      it('carries the SHA-256 digest of its bstr-wrapped manifest', () => {
        const parsed = parseEnvelope(e.bytes);
        assert.equal(parsed.sequenceNumber, e.example);
        assert.equal(parsed.authDigest?.algorithm, -16);
        const recomputed = computeDigest('ietf-37', -16, manifestDigestInput(parsed));
        assert.deepEqual(recomputed.bytes, parsed.authDigest?.bytes);
      });

      if (e.signed) {
        it('verifies with public_key.pem (ES256, detached payload)', () => {
          const result = verifyEnvelope(e.bytes, { trustedKeys: [publicKey] });
          assert.deepEqual(result.errors, []);
          assert.equal(result.ok, true);
          assert.equal(result.format, 'ietf-37');
          assert.equal(result.sequenceNumber, e.example);
          assert.ok(result.components.length > 0);
        });
      } else {
        it('is reported as unsigned, and nothing else', () => {
          const result = verifyEnvelope(e.bytes, { trustedKeys: [publicKey] });
          assert.equal(result.ok, false);
          assert.deepEqual(
            result.errors.map((x) => x.code),
            ['SIGNATURE_INVALID'],
          );
        });
      }
    });
  }

  it('lists the components of example 3 (A/B slots under try-each)', () => {
    const e = signed.find((x) => x.example === 3);
    assert.ok(e);
    const { components } = verifyEnvelope(e.bytes, { trustedKeys: [publicKey] });
    assert.deepEqual(
      components.map((c) => [c.key, c.offset, c.size, c.uri, c.digest?.slice(0, 8)]),
      [
        ['0@0', 0, 34768, 'http://example.com/file1.bin', '00112233'],
        ['0@1', 1, 76834, 'http://example.com/file2.bin', '01234567'],
      ],
    );
    assert.equal(components[0]?.vendorId, 'fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe');
  });

  it('checks the severed install and text members of example 2 against their digests', () => {
    const full = signed.find((x) => x.example === 2 && x.bytes.length === 923);
    assert.ok(full);
    assert.equal(verifyEnvelope(full.bytes, { trustedKeys: [publicKey] }).ok, true);
    const inspected = inspectEnvelope(full.bytes);
    assert.ok('install (severed)' in inspected);

    const tampered = Buffer.from(full.bytes);
    const at = tampered.indexOf(Buffer.from('very/long/path'));
    assert.ok(at > 0);
    tampered[at] = 'V'.charCodeAt(0);
    const result = verifyEnvelope(tampered, { trustedKeys: [publicKey] });
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.errors.map((x) => x.code),
      ['DIGEST_MISMATCH'],
    );
  });

  it('rejects a manifest changed after signing (digest mismatch)', () => {
    const e = signed.find((x) => x.example === 1);
    assert.ok(e);
    const tampered = Buffer.from(e.bytes);
    const at = tampered.indexOf(Buffer.from('example.com'));
    tampered[at] = 'E'.charCodeAt(0);
    const result = verifyEnvelope(tampered, { trustedKeys: [publicKey] });
    assert.deepEqual(
      result.errors.map((x) => x.code),
      ['DIGEST_MISMATCH'],
    );
  });

  it('rejects every example under a key that did not sign it', () => {
    const other = loadPublicKey(generateSigningKey('es256').publicKeyPem);
    for (const e of signed) {
      const result = verifyEnvelope(e.bytes, { trustedKeys: [other] });
      assert.deepEqual(
        result.errors.map((x) => x.code),
        ['SIGNATURE_INVALID'],
        `example ${e.example}`,
      );
    }
  });

  it('signs an unsigned example into the same layout as the published signed one', () => {
    const unsigned = examples.find((x) => x.example === 0 && !x.signed);
    const reference = signed.find((x) => x.example === 0);
    assert.ok(unsigned && reference);
    const ours = signEnvelope(unsigned.bytes, loadPrivateKey(fixture('ietf-draft37/private_key.pem')));
    assert.equal(ours.length, reference.bytes.length);
    assert.equal(verifyEnvelope(ours, { trustedKeys: [publicKey] }).ok, true);
    // ECDSA is randomised: everything but the 64 signature bytes must match the published envelope.
    const auth = (b: Buffer): unknown[] =>
      decodeCbor(expectMap((decodeCbor(b, 'e') as Tag).value, 'e').get(2) as Buffer, 'auth') as unknown[];
    const [ourDigest, ourCose] = auth(ours);
    const [refDigest, refCose] = auth(reference.bytes);
    assert.deepEqual(ourDigest, refDigest);
    const strip = (cose: unknown): Buffer =>
      encodeCbor((decodeCbor(cose as Buffer, 'c') as Tag).value.slice(0, 3));
    assert.deepEqual(strip(ourCose), strip(refCose));
  });
});
