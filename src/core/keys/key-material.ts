import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { DomainError } from '../errors.js';
import { assertValidName } from '../names.js';
import { KEY_ALGORITHMS, type KeyAlgorithm, type KeyInfo, type KeySource } from './key-store.js';

/** A parsed PEM: the private key when the file holds one, and always the public key. */
export interface KeyMaterial {
  privateKey: KeyObject | null;
  publicKey: KeyObject;
}

export function assertKeyName(name: unknown): string {
  return assertValidName(name, 'key');
}

export function assertKeyAlgorithm(value: unknown): KeyAlgorithm {
  if (!KEY_ALGORITHMS.includes(value as KeyAlgorithm)) {
    throw new DomainError('KEY_INVALID', `key algorithm must be one of ${KEY_ALGORITHMS.join(', ')}`);
  }
  return value as KeyAlgorithm;
}

/** PKCS#8 PEM of a new private key. */
export function generatePrivateKeyPem(algorithm: KeyAlgorithm): string {
  const pair =
    algorithm === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : algorithm === 'es256'
        ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
        : generateKeyPairSync('rsa', { modulusLength: Number(algorithm.slice(3)) });
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Accepts a private key PEM (PKCS#8, SEC1, PKCS#1) or a public key PEM (SPKI, PKCS#1). */
export function parseKeyPem(pem: string | Buffer, name: string): KeyMaterial {
  try {
    const privateKey = createPrivateKey(pem);
    return { privateKey, publicKey: createPublicKey(privateKey) };
  } catch {
    // not a private key: perhaps a public one
  }
  try {
    return { privateKey: null, publicKey: createPublicKey(pem) };
  } catch (err) {
    throw new DomainError('KEY_INVALID', `key "${name}" is not a PEM key: ${(err as Error).message}`);
  }
}

export function keyAlgorithm(key: KeyObject): string {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') return 'es256';
  if (key.asymmetricKeyType === 'rsa') return `rsa${details?.modulusLength ?? ''}`;
  return 'unsupported';
}

export function describeKey(
  name: string,
  material: KeyMaterial,
  source: KeySource,
  location: string,
): KeyInfo {
  const der = material.publicKey.export({ type: 'spki', format: 'der' });
  return {
    name,
    algorithm: keyAlgorithm(material.publicKey),
    source,
    private: material.privateKey !== null,
    fingerprint: createHash('sha256').update(der).digest('hex'),
    publicKeyPem: material.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    location,
  };
}

export function requirePrivate(name: string, material: KeyMaterial): KeyObject {
  if (!material.privateKey) {
    throw new DomainError(
      'KEY_INVALID',
      `key "${name}" is public only: Updraft can verify with it, not sign`,
    );
  }
  return material.privateKey;
}
