import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  parseCoseSign1,
  signCoseSign1,
  coseSign1Value,
  verifyCoseSign1,
} from '../../src/core/manifests/cose-sign1.js';
import { encodeCbor } from '../../src/core/manifests/cbor.js';
import {
  exportPublicKey,
  generateSigningKey,
  loadPrivateKey,
  loadPublicKey,
  publicKeyCArray,
  rawPublicKey,
  type SigningKeyType,
} from '../../src/core/manifests/keys.js';
import { fixture } from './fixtures.js';

describe('signing keys', () => {
  for (const type of ['ed25519', 'es256'] as SigningKeyType[]) {
    it(`generates ${type} and exports the public key as PEM, raw and C, each loading back`, () => {
      const pair = generateSigningKey(type);
      const pub = loadPublicKey(pair.publicKeyPem);
      const raw = exportPublicKey(pub, 'raw') as Buffer;
      assert.equal(raw.length, type === 'ed25519' ? 32 : 65);
      assert.deepEqual(rawPublicKey(loadPublicKey(raw)), raw);
      assert.equal(exportPublicKey(loadPublicKey(raw), 'pem'), pair.publicKeyPem);
      assert.deepEqual(
        rawPublicKey(loadPrivateKey(pair.privateKeyPem)),
        raw,
        'public half of the private key',
      );
      const c = exportPublicKey(pub, 'c') as string;
      assert.equal((c.match(/0x[0-9a-f]{2}/g) ?? []).length, raw.length);
    });
  }

  it('prints the fixture key as RIOT’s public_key.h does', () => {
    const raw = fixture('riot-draft09/test-only-ed25519-public.raw');
    const pub = loadPublicKey(fixture('riot-draft09/test-only-ed25519-public.pem'));
    assert.deepEqual(rawPublicKey(pub), raw);
    const hex = [...raw].map((b) => `0x${b.toString(16).padStart(2, '0')}`);
    const expected =
      'const uint8_t public_key[] = {\n' +
      `    ${hex.slice(0, 12).join(', ')},\n` +
      `    ${hex.slice(12, 24).join(', ')},\n` +
      `    ${hex.slice(24).join(', ')}\n};\n`;
    assert.equal(publicKeyCArray(pub), expected);
  });

  it('rejects keys it cannot use', () => {
    assert.throws(() => loadPublicKey(Buffer.alloc(31)), { code: 'KEY_INVALID' });
    assert.throws(() => loadPrivateKey('-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n'), {
      code: 'KEY_INVALID',
    });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    assert.throws(() => signCoseSign1({ privateKey: rsa, payload: Buffer.from('x'), detached: false }), {
      code: 'KEY_INVALID',
    });
  });
});

describe('COSE_Sign1', () => {
  const payload = encodeCbor([2, Buffer.alloc(32, 7)]);
  for (const type of ['ed25519', 'es256'] as SigningKeyType[]) {
    for (const detached of [false, true]) {
      it(`${type}, ${detached ? 'detached' : 'attached'} payload: signs, survives encoding, verifies`, () => {
        const pair = generateSigningKey(type);
        const signed = signCoseSign1({ privateKey: loadPrivateKey(pair.privateKeyPem), payload, detached });
        assert.equal(signed.signature.length, 64, 'Ed25519 and raw r||s ES256 are both 64 bytes');
        const decoded = parseCoseSign1(coseSign1Value(signed));
        assert.equal(decoded.payload === null, detached);
        const key = loadPublicKey(pair.publicKeyPem);
        assert.equal(verifyCoseSign1(decoded, [key], detached ? payload : undefined).ok, true);
        const wrongPayload = Buffer.from(payload);
        wrongPayload[5] = (wrongPayload[5] ?? 0) ^ 1;
        const attachedBad = { ...decoded, payload: detached ? null : wrongPayload };
        assert.equal(verifyCoseSign1(attachedBad, [key], detached ? wrongPayload : undefined).ok, false);
        const other = loadPublicKey(generateSigningKey(type).publicKeyPem);
        assert.equal(verifyCoseSign1(decoded, [other], detached ? payload : undefined).ok, false);
      });
    }
  }

  it('does not accept an Ed25519 key for an ES256 signature', () => {
    const es = generateSigningKey('es256');
    const signed = signCoseSign1({ privateKey: loadPrivateKey(es.privateKeyPem), payload, detached: false });
    const ed = loadPublicKey(generateSigningKey('ed25519').publicKeyPem);
    assert.equal(verifyCoseSign1(signed, [ed]).ok, false);
  });
});
