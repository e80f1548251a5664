import type { Config } from '../config/config.js';
import type { KeyStore } from '../core/keys/index.js';
import { createFsKeyStore } from '../storage/keys/fs-key-store.js';

/** The signing keys of this data folder: used by the server's publish flow and by `updraft keys`. */
export function openKeyStore(config: Pick<Config, 'keysDir' | 'signingKeys'>): KeyStore {
  return createFsKeyStore({ dir: config.keysDir, external: config.signingKeys });
}
