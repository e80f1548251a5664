// The keys feature: the KeyStore port, key parsing and public-key export.
export {
  KEY_ALGORITHMS,
  type KeyAlgorithm,
  type KeyInfo,
  type KeySource,
  type KeyStore,
} from './key-store.js';
export {
  assertKeyAlgorithm,
  assertKeyName,
  describeKey,
  generatePrivateKeyPem,
  keyAlgorithm,
  parseKeyPem,
  requirePrivate,
  type KeyMaterial,
} from './key-material.js';
export { createMemoryKeyStore } from './memory-key-store.js';
export {
  exportPublicKeyAs,
  KEY_EXPORT_FORMATS,
  riotPublicKeyHeader,
  type KeyExportFormat,
} from './export.js';
