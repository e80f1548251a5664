import { sign, verify, type KeyObject } from 'node:crypto';
import { DomainError } from '../errors.js';
import {
  Tag,
  decodeCbor,
  encodeCbor,
  expectArray,
  expectBytes,
  expectMap,
  expectTag,
  type CborMap,
} from './cbor.js';
import { signingKeyType, type SigningKeyType } from './keys.js';

/** RFC 9052 §4.2: COSE_Sign1_Tagged = #6.18(COSE_Sign1). */
export const COSE_SIGN1_TAG = 18;

/** RFC 9053 §2.1 (ES256 = -7) and §2.2 (EdDSA = -8); the `alg` header label is 1 (RFC 9052 §3.1). */
export const COSE_ALG: Record<SigningKeyType, number> = { es256: -7, ed25519: -8 };
const HEADER_ALG = 1;

export interface CoseSign1 {
  /** The protected header exactly as received: the signature covers these bytes, not a re-encoding. */
  protectedBytes: Buffer;
  protectedHeader: CborMap;
  unprotected: CborMap;
  /** null when detached (SUIT draft-37); the encoded SUIT_Digest when attached (RIOT's draft-09). */
  payload: Buffer | null;
  signature: Buffer;
}

export function coseAlgorithm(message: CoseSign1): number | undefined {
  const alg = message.protectedHeader.get(HEADER_ALG) ?? message.unprotected.get(HEADER_ALG);
  return typeof alg === 'number' ? alg : undefined;
}

export function parseCoseSign1(value: unknown, what = 'COSE_Sign1'): CoseSign1 {
  const arr = expectArray(expectTag(value, COSE_SIGN1_TAG, what), what);
  if (arr.length !== 4)
    throw new DomainError('MANIFEST_INVALID', `${what}: expected 4 elements, got ${arr.length}`);
  const protectedBytes = expectBytes(arr[0], `${what} protected`);
  // RFC 9052 §3: an empty protected header is sent as a zero-length bstr, not as an encoded empty map.
  const protectedHeader =
    protectedBytes.length === 0
      ? new Map()
      : expectMap(decodeCbor(protectedBytes, `${what} protected`), what);
  return {
    protectedBytes,
    protectedHeader,
    unprotected: expectMap(arr[1], `${what} unprotected`),
    payload: arr[2] === null ? null : expectBytes(arr[2], `${what} payload`),
    signature: expectBytes(arr[3], `${what} signature`),
  };
}

export function coseSign1Value(message: CoseSign1): Tag {
  return new Tag(
    [message.protectedBytes, message.unprotected, message.payload, message.signature],
    COSE_SIGN1_TAG,
  );
}

/** RFC 9052 §4.4: Sig_structure = ["Signature1", body_protected, external_aad, payload]. */
export function sigStructure(
  protectedBytes: Buffer,
  payload: Buffer,
  externalAad: Buffer = Buffer.alloc(0),
): Buffer {
  return encodeCbor(['Signature1', protectedBytes, externalAad, payload]);
}

function rawSign(type: SigningKeyType, key: KeyObject, data: Buffer): Buffer {
  // RFC 9053 §2.1: ECDSA signatures are r||s, each the curve size, not DER.
  return type === 'ed25519'
    ? sign(null, data, key)
    : sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
}

function rawVerify(alg: number, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  try {
    if (alg === COSE_ALG.ed25519) {
      return key.asymmetricKeyType === 'ed25519' && verify(null, data, key, signature);
    }
    if (alg === COSE_ALG.es256) {
      return (
        key.asymmetricKeyType === 'ec' &&
        key.asymmetricKeyDetails?.namedCurve === 'prime256v1' &&
        verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
      );
    }
  } catch {
    return false;
  }
  return false;
}

export interface SignOptions {
  privateKey: KeyObject;
  payload: Buffer;
  /** Detached: the payload is signed but sent as nil (RFC 9052 §2); the verifier supplies it. */
  detached: boolean;
}

export function signCoseSign1({ privateKey, payload, detached }: SignOptions): CoseSign1 {
  const type = signingKeyType(privateKey);
  const protectedHeader: CborMap = new Map([[HEADER_ALG, COSE_ALG[type]]]);
  const protectedBytes = encodeCbor(protectedHeader);
  const signature = rawSign(type, privateKey, sigStructure(protectedBytes, payload));
  return {
    protectedBytes,
    protectedHeader,
    unprotected: new Map(),
    payload: detached ? null : payload,
    signature,
  };
}

export type CoseVerifyResult = { ok: true; keyIndex: number; payload: Buffer } | { ok: false; error: string };

/**
 * Any one trusted key verifying is enough, as on a RIOT device (`suit.base.inc.mk`: several `public_key[]`
 * entries, the first that verifies wins).
 */
export function verifyCoseSign1(
  message: CoseSign1,
  trustedKeys: readonly KeyObject[],
  detachedPayload?: Buffer,
): CoseVerifyResult {
  const payload = message.payload ?? detachedPayload;
  if (!payload) return { ok: false, error: 'COSE_Sign1 payload is detached and none was supplied' };
  const alg = coseAlgorithm(message);
  if (alg !== COSE_ALG.ed25519 && alg !== COSE_ALG.es256) {
    return { ok: false, error: `unsupported COSE algorithm ${String(alg)}` };
  }
  const toBeSigned = sigStructure(message.protectedBytes, payload);
  const keyIndex = trustedKeys.findIndex((key) => rawVerify(alg, key, toBeSigned, message.signature));
  if (keyIndex < 0) return { ok: false, error: 'COSE signature does not verify with any trusted key' };
  return { ok: true, keyIndex, payload };
}
