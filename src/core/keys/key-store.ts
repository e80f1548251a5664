import type { KeyObject } from 'node:crypto';

/**
 * What `updraft keys generate` makes: Ed25519 and ES256 (P-256) sign SUIT manifests (RIOT devices verify
 * Ed25519); RSA signs ESP8266 images (PKCS#1 v1.5) and ESP32 images (PSS), as does P-256 for ESP32 (ECDSA).
 * RSA-4096 is the largest signature the ESP32 512-byte trailer holds.
 */
export type KeyAlgorithm = 'ed25519' | 'es256' | 'rsa2048' | 'rsa3072' | 'rsa4096';
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['ed25519', 'es256', 'rsa2048', 'rsa3072', 'rsa4096'];

/** Where a key comes from: the keys folder, a file named in the config, or an `UPDRAFT_KEY_<NAME>` variable. */
export type KeySource = 'store' | 'file' | 'env';

/** A key as the operator sees it; never carries private material. */
export interface KeyInfo {
  name: string;
  /** Detected from the key itself: one of KEY_ALGORITHMS, another `rsa<bits>`, or `unsupported`. */
  algorithm: string;
  source: KeySource;
  /** Whether Updraft holds the private half (it can sign) or only the public one (it can verify). */
  private: boolean;
  /** SHA-256 of the DER SubjectPublicKeyInfo, hex (`openssl pkey -pubout -outform der | sha256sum`). */
  fingerprint: string;
  publicKeyPem: string;
  /** The file holding it, or the environment variable. */
  location: string;
}

/**
 * Signing keys, by name. Private keys never leave the store through the API; the CLI works on the local data
 * folder. A store may also hold public-only keys (trusted signers whose private key lives in a build system).
 */
export interface KeyStore {
  /** Creates and stores a new key pair; INVALID_INPUT when the name is taken. */
  generate(name: string, algorithm: KeyAlgorithm): Promise<KeyInfo>;
  /** KEY_NOT_FOUND when unknown; KEY_INVALID when only the public half is held. */
  privateKey(name: string): Promise<KeyObject>;
  publicKey(name: string): Promise<KeyObject>;
  info(name: string): Promise<KeyInfo>;
  list(): Promise<KeyInfo[]>;
}
