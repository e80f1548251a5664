import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { DomainError } from '../errors.js';

/** The two COSE algorithms SUIT tooling signs with: EdDSA (RIOT's default) and ES256 (the IETF examples). */
export type SigningKeyType = 'ed25519' | 'es256';

export interface GeneratedKeyPair {
  type: SigningKeyType;
  privateKeyPem: string;
  publicKeyPem: string;
}

export type PublicKeyFormat = 'pem' | 'raw' | 'c';

export function generateSigningKey(type: SigningKeyType): GeneratedKeyPair {
  const { privateKey, publicKey } =
    type === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    type,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** SUIT keys only: Ed25519 and P-256. RSA and other curves are ESP-signing keys (esp-signing.ts). */
export function signingKeyType(key: KeyObject): SigningKeyType {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'es256';
  throw new DomainError(
    'KEY_INVALID',
    `unsupported SUIT key: ${key.asymmetricKeyType ?? 'unknown'} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trim(),
  );
}

export function loadPrivateKey(pem: string | Buffer): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new DomainError('KEY_INVALID', `not a private key: ${(err as Error).message}`);
  }
}

function looksLikePem(input: string | Buffer): boolean {
  return input.toString('latin1', 0, Math.min(input.length, 64)).includes('-----BEGIN');
}

/**
 * Accepts what operators have at hand: a PEM public key, a PEM private key (its public half is used), the 32 raw
 * bytes of an Ed25519 key (what RIOT compiles in, `suit.base.inc.mk`) or a 65-byte uncompressed P-256 point.
 */
export function loadPublicKey(input: string | Buffer | KeyObject): KeyObject {
  if (typeof input === 'object' && !Buffer.isBuffer(input)) {
    return input.type === 'private' ? createPublicKey(input) : input;
  }
  if (looksLikePem(input)) {
    try {
      return createPublicKey(input);
    } catch (err) {
      throw new DomainError('KEY_INVALID', `not a public key: ${(err as Error).message}`);
    }
  }
  const raw = Buffer.isBuffer(input) ? input : Buffer.from(input, 'hex');
  if (raw.length === 32) {
    return createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
      format: 'jwk',
    });
  }
  if (raw.length === 65 && raw[0] === 0x04) {
    try {
      return createPublicKey({
        key: {
          kty: 'EC',
          crv: 'P-256',
          x: raw.subarray(1, 33).toString('base64url'),
          y: raw.subarray(33).toString('base64url'),
        },
        format: 'jwk',
      });
    } catch (err) {
      throw new DomainError('KEY_INVALID', `not a P-256 point: ${(err as Error).message}`);
    }
  }
  throw new DomainError(
    'KEY_INVALID',
    `a raw public key is 32 (Ed25519) or 65 (P-256) bytes, got ${raw.length}`,
  );
}

export function rawPublicKey(key: KeyObject): Buffer {
  const pub = loadPublicKey(key);
  const jwk = pub.export({ format: 'jwk' });
  const type = signingKeyType(pub);
  const x = Buffer.from(jwk.x ?? '', 'base64url');
  if (type === 'ed25519') return x;
  return Buffer.concat([Buffer.from([0x04]), x, Buffer.from(jwk.y ?? '', 'base64url')]);
}

/**
 * The header RIOT's `suit-tool pubkey -f header` writes (dist/tools/suit/patches/0001-get_pubkey.py-add-header-
 * output-option.patch): `0x..` items joined by ", " and wrapped at 76 columns, i.e. twelve per line.
 */
export function publicKeyCArray(key: KeyObject, name = 'public_key'): string {
  const items = [...rawPublicKey(key)].map((b) => `0x${b.toString(16).padStart(2, '0')}`);
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += 12) lines.push(items.slice(i, i + 12).join(', '));
  return `const uint8_t ${name}[] = {\n    ${lines.join(',\n    ')}\n};\n`;
}

export function exportPublicKey(key: KeyObject, format: PublicKeyFormat): string | Buffer {
  const pub = loadPublicKey(key);
  if (format === 'pem') return pub.export({ type: 'spki', format: 'pem' }).toString();
  if (format === 'raw') return rawPublicKey(pub);
  return publicKeyCArray(pub);
}
