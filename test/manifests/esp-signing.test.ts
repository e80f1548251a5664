import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  ESP32_SIGNATURE_TRAILER,
  signEsp32Image,
  signEsp8266Image,
  verifyEsp32Image,
  verifyEsp8266Image,
} from '../../src/core/manifests/esp-signing.js';
import { openssl, scratch } from './fixtures.js';

const image = Buffer.concat([Buffer.from([0xe9]), randomBytes(50_000)]);
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();

describe('ESP8266 signed image (Arduino core tools/signing.py)', () => {
  const signed = signEsp8266Image(image, rsa.privateKey);

  it('is image || 256-byte signature || uint32_le(256)', () => {
    assert.equal(signed.length, image.length + 256 + 4);
    assert.deepEqual(signed.subarray(0, image.length), image);
    assert.deepEqual(signed.subarray(-4), Buffer.from([0x00, 0x01, 0x00, 0x00]));
  });

  it('verifies with openssl dgst -sha256 -verify over the body, as the device checks it', () => {
    const tmp = scratch();
    try {
      const body = signed.subarray(0, signed.length - 4 - 256);
      const pub = tmp.write('pub.pem', pem(rsa.publicKey));
      const sig = tmp.write('sig.bin', signed.subarray(body.length, body.length + 256));
      const good = openssl([
        'dgst',
        '-sha256',
        '-verify',
        pub,
        '-signature',
        sig,
        tmp.write('body.bin', body),
      ]);
      assert.equal(good.status, 0, good.output);
      assert.match(good.output, /Verified OK/);
      const flipped = Buffer.from(body);
      flipped[100] = (flipped[100] ?? 0) ^ 1;
      const bad = openssl([
        'dgst',
        '-sha256',
        '-verify',
        pub,
        '-signature',
        sig,
        tmp.write('bad.bin', flipped),
      ]);
      assert.notEqual(bad.status, 0);
    } finally {
      tmp.done();
    }
  });

  it('verifies with node:crypto, and fails for a flipped byte, a wrong key or a wrong length field', () => {
    assert.equal(verifyEsp8266Image(signed, rsa.publicKey).ok, true);
    const flipped = Buffer.from(signed);
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    assert.equal(verifyEsp8266Image(flipped, rsa.publicKey).ok, false);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    assert.equal(verifyEsp8266Image(signed, other).ok, false);
    const badLength = Buffer.from(signed);
    badLength.writeUInt32LE(128, badLength.length - 4);
    assert.match(verifyEsp8266Image(badLength, rsa.publicKey).error ?? '', /trailer says 128/);
  });

  it('refuses a non-RSA key, which the device would not accept', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    assert.throws(() => signEsp8266Image(image, ec), { code: 'KEY_INVALID' });
  });
});

describe('ESP32 signed image (arduino-esp32 3.x tools/bin_signing.py, UPDATE_SIGN)', () => {
  it('RSA-PSS: image || signature || zeros to 512 bytes, verified by openssl with PSS and max salt', () => {
    const signed = signEsp32Image(image, rsa.privateKey);
    assert.equal(signed.length, image.length + ESP32_SIGNATURE_TRAILER);
    assert.deepEqual(signed.subarray(0, image.length), image);
    const trailer = signed.subarray(image.length);
    assert.ok(trailer.subarray(256).equals(Buffer.alloc(256)), 'zero padding after the 256-byte signature');
    assert.equal(verifyEsp32Image(signed, rsa.publicKey).ok, true);

    const tmp = scratch();
    try {
      const args = (body: string): string[] => [
        'dgst',
        '-sha256',
        '-sigopt',
        'rsa_padding_mode:pss',
        '-sigopt',
        'rsa_pss_saltlen:max',
        '-verify',
        tmp.write('pub.pem', pem(rsa.publicKey)),
        '-signature',
        tmp.write('sig.bin', trailer.subarray(0, 256)),
        body,
      ];
      const good = openssl(args(tmp.write('body.bin', image)));
      assert.equal(good.status, 0, good.output);
      const flipped = Buffer.from(image);
      flipped[1] = (flipped[1] ?? 0) ^ 1;
      assert.notEqual(openssl(args(tmp.write('bad.bin', flipped))).status, 0);
    } finally {
      tmp.done();
    }
  });

  for (const [curve, hash] of [
    ['prime256v1', 'sha256'],
    ['secp384r1', 'sha384'],
  ] as const) {
    it(`ECDSA ${curve}/${hash}: DER signature in the 512-byte trailer, verified by node and openssl`, () => {
      const ec = generateKeyPairSync('ec', { namedCurve: curve });
      const signed = signEsp32Image(image, ec.privateKey, hash);
      const trailer = signed.subarray(image.length);
      assert.equal(trailer.length, ESP32_SIGNATURE_TRAILER);
      assert.equal(trailer[0], 0x30, 'DER SEQUENCE');
      const result = verifyEsp32Image(signed, ec.publicKey, hash);
      assert.equal(result.ok, true);
      assert.ok(
        trailer.subarray(result.signature.length).equals(Buffer.alloc(512 - result.signature.length)),
      );

      const tmp = scratch();
      try {
        const out = openssl([
          'dgst',
          `-${hash}`,
          '-verify',
          tmp.write('pub.pem', pem(ec.publicKey)),
          '-signature',
          tmp.write('sig.der', result.signature),
          tmp.write('body.bin', image),
        ]);
        assert.equal(out.status, 0, out.output);
      } finally {
        tmp.done();
      }
    });
  }

  it('fails for a flipped image byte, a wrong key, or a wrong hash', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    for (const [priv, pub] of [
      [rsa.privateKey, rsa.publicKey],
      [ec.privateKey, ec.publicKey],
    ] as const) {
      const signed = signEsp32Image(image, priv);
      const flipped = Buffer.from(signed);
      flipped[2] = (flipped[2] ?? 0) ^ 1;
      assert.equal(verifyEsp32Image(flipped, pub).ok, false);
      assert.equal(verifyEsp32Image(signed, pub, 'sha512').ok, false);
    }
    const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    assert.equal(verifyEsp32Image(signEsp32Image(image, rsa.privateKey), otherRsa).ok, false);
  });

  it('refuses keys whose signatures do not fit, or that the device cannot verify', () => {
    const big = generateKeyPairSync('rsa', { modulusLength: 4104 }).privateKey;
    assert.throws(() => signEsp32Image(image, big), { code: 'KEY_INVALID' });
    const ed = generateKeyPairSync('ed25519').privateKey;
    assert.throws(() => signEsp32Image(image, ed), { code: 'KEY_INVALID' });
  });
});
