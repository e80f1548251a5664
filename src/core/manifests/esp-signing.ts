import { constants, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { DomainError } from '../errors.js';

/**
 * Signed ESP images (device-protocols.md §1.5 and §2.3). Both append a trailer to the unchanged image; the
 * server serves the signed file as-is, with Content-Length covering the trailer.
 */

export interface EspVerifyResult {
  ok: boolean;
  /** The image without its trailer (what was signed). */
  body: Buffer;
  signature: Buffer;
  error?: string;
}

function rsaModulusBytes(key: KeyObject): number {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new DomainError('KEY_INVALID', `expected an RSA key, got ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  return Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
}

function publicOf(key: KeyObject): KeyObject {
  return key.type === 'private' ? createPublicKey(key) : key;
}

/**
 * ESP8266 Arduino core `tools/signing.py`: `image || RSASSA-PKCS1-v1_5(SHA-256, image) || uint32_le(sig length)`,
 * signed after any gzip compression. The device (`Updater.cpp end()`, `BearSSLHelpers.cpp SigningVerifier`)
 * insists that the length equals the key's modulus size, so only RSA keys are accepted here.
 */
export function signEsp8266Image(image: Uint8Array, privateKey: KeyObject): Buffer {
  rsaModulusBytes(privateKey);
  const signature = sign('sha256', image, { key: privateKey, padding: constants.RSA_PKCS1_PADDING });
  const length = Buffer.alloc(4);
  length.writeUInt32LE(signature.length);
  return Buffer.concat([image, signature, length]);
}

export function verifyEsp8266Image(signed: Uint8Array, publicKey: KeyObject): EspVerifyResult {
  const bytes = Buffer.from(signed.buffer, signed.byteOffset, signed.byteLength);
  const key = publicOf(publicKey);
  const nlen = rsaModulusBytes(key);
  const empty = { ok: false, body: Buffer.alloc(0), signature: Buffer.alloc(0) };
  if (bytes.length < 4) return { ...empty, error: 'image too short for a signature trailer' };
  const sigLen = bytes.readUInt32LE(bytes.length - 4);
  if (sigLen !== nlen || bytes.length < sigLen + 4) {
    return { ...empty, error: `trailer says ${sigLen} signature bytes, the key needs ${nlen}` };
  }
  const body = bytes.subarray(0, bytes.length - 4 - sigLen);
  const signature = bytes.subarray(bytes.length - 4 - sigLen, bytes.length - 4);
  const ok = verify('sha256', body, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
  return ok ? { ok, body, signature } : { ok, body, signature, error: 'RSA signature does not verify' };
}

/** arduino-esp32 `Updater.cpp installSignature()`: the signature area is always 512 bytes (RSA-4096). */
export const ESP32_SIGNATURE_TRAILER = 512;

export type Esp32Hash = 'sha256' | 'sha384' | 'sha512';
const HASH_BYTES: Record<Esp32Hash, number> = { sha256: 32, sha384: 48, sha512: 64 };

/**
 * arduino-esp32 3.x `tools/bin_signing.py`: `image || signature || zero padding` to 512 bytes. RSA keys sign
 * with RSA-PSS (MGF1 with the same hash, maximum salt length); P-256/P-384 keys with ECDSA, DER-encoded.
 */
export function signEsp32Image(image: Uint8Array, privateKey: KeyObject, hash: Esp32Hash = 'sha256'): Buffer {
  let signature: Buffer;
  if (privateKey.asymmetricKeyType === 'rsa') {
    signature = sign(hash, image, {
      key: privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN,
    });
  } else if (privateKey.asymmetricKeyType === 'ec') {
    signature = sign(hash, image, { key: privateKey, dsaEncoding: 'der' });
  } else {
    throw new DomainError('KEY_INVALID', 'ESP32 signing needs an RSA or ECDSA (P-256/P-384) key');
  }
  if (signature.length > ESP32_SIGNATURE_TRAILER) {
    throw new DomainError(
      'KEY_INVALID',
      `a ${signature.length}-byte signature does not fit the 512-byte trailer`,
    );
  }
  return Buffer.concat([image, signature, Buffer.alloc(ESP32_SIGNATURE_TRAILER - signature.length)]);
}

/** DER `SEQUENCE` length: the device reads the ECDSA signature length from this header (`Updater_Signing.cpp`). */
function derLength(trailer: Buffer): number | null {
  if (trailer[0] !== 0x30) return null;
  const first = trailer[1] ?? 0;
  if (first < 0x80) return 2 + first;
  if (first === 0x81) return 3 + (trailer[2] ?? 0);
  return null;
}

export function verifyEsp32Image(
  signed: Uint8Array,
  publicKey: KeyObject,
  hash: Esp32Hash = 'sha256',
): EspVerifyResult {
  const bytes = Buffer.from(signed.buffer, signed.byteOffset, signed.byteLength);
  const key = publicOf(publicKey);
  if (bytes.length < ESP32_SIGNATURE_TRAILER) {
    return {
      ok: false,
      body: Buffer.alloc(0),
      signature: Buffer.alloc(0),
      error: 'image shorter than the trailer',
    };
  }
  const body = bytes.subarray(0, bytes.length - ESP32_SIGNATURE_TRAILER);
  const trailer = bytes.subarray(bytes.length - ESP32_SIGNATURE_TRAILER);
  let ok = false;
  let signature: Buffer;
  if (key.asymmetricKeyType === 'rsa') {
    // The device (Updater_Signing.cpp, mbedtls 3.x) verifies the first key_len bytes of the trailer and insists
    // on PSS.MAX_LENGTH salt, key_len - hash_len - 2; checking the same catches a signer that drifts.
    const nlen = rsaModulusBytes(key);
    signature = trailer.subarray(0, nlen);
    const saltLength = nlen - HASH_BYTES[hash] - 2;
    ok = verify(hash, body, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
  } else if (key.asymmetricKeyType === 'ec') {
    const len = derLength(trailer);
    if (len === null)
      return { ok: false, body, signature: Buffer.alloc(0), error: 'trailer is not a DER signature' };
    signature = trailer.subarray(0, len);
    ok = verify(hash, body, { key, dsaEncoding: 'der' }, signature);
  } else {
    throw new DomainError('KEY_INVALID', 'ESP32 verification needs an RSA or ECDSA key');
  }
  return ok ? { ok, body, signature } : { ok, body, signature, error: 'signature does not verify' };
}
