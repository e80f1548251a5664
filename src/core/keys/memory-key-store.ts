import { DomainError } from '../errors.js';
import type { KeyStore } from './key-store.js';
import {
  assertKeyAlgorithm,
  assertKeyName,
  describeKey,
  generatePrivateKeyPem,
  parseKeyPem,
  requirePrivate,
  type KeyMaterial,
} from './key-material.js';

/** The in-memory KeyStore: for tests, and run through the same contract suite as the filesystem one. */
export function createMemoryKeyStore(initial: Record<string, string> = {}): KeyStore {
  const pems = new Map(Object.entries(initial));

  function load(name: string): KeyMaterial {
    const pem = pems.get(assertKeyName(name));
    if (pem === undefined) throw new DomainError('KEY_NOT_FOUND', `no signing key named "${name}"`);
    return parseKeyPem(pem, name);
  }

  return {
    async generate(name, algorithm) {
      assertKeyName(name);
      assertKeyAlgorithm(algorithm);
      if (pems.has(name)) throw new DomainError('INVALID_INPUT', `a key named "${name}" already exists`);
      pems.set(name, generatePrivateKeyPem(algorithm));
      return describeKey(name, load(name), 'store', `memory:${name}`);
    },
    privateKey: async (name) => requirePrivate(name, load(name)),
    publicKey: async (name) => load(name).publicKey,
    info: async (name) => describeKey(name, load(name), 'store', `memory:${name}`),
    list: async () =>
      [...pems.keys()].sort().map((name) => describeKey(name, load(name), 'store', `memory:${name}`)),
  };
}
