import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DomainError } from '../../core/errors.js';
import { isValidName } from '../../core/names.js';
import {
  assertKeyAlgorithm,
  assertKeyName,
  describeKey,
  generatePrivateKeyPem,
  parseKeyPem,
  requirePrivate,
  type KeyInfo,
  type KeyMaterial,
  type KeySource,
  type KeyStore,
} from '../../core/keys/index.js';

/** A key configured outside the keys folder: a PEM file, or PEM content from an environment variable. */
export type ExternalKey = { file: string } | { env: string; pem: string };

export interface FsKeyStoreOptions {
  /** `<dir>/<name>.pem`, private keys written with mode 0600 in a 0700 folder. */
  dir: string;
  /** Configured keys; they take precedence over a file of the same name in `dir`. */
  external?: Readonly<Record<string, ExternalKey>>;
}

const PEM_SUFFIX = '.pem';

export function createFsKeyStore({ dir, external = {} }: FsKeyStoreOptions): KeyStore {
  const pathOf = (name: string) => join(dir, `${name}${PEM_SUFFIX}`);

  async function load(name: string): Promise<{ material: KeyMaterial; source: KeySource; location: string }> {
    assertKeyName(name);
    const configured = external[name];
    if (configured && 'file' in configured) {
      const pem = await readFile(configured.file).catch((err: NodeJS.ErrnoException) => {
        throw new DomainError('KEY_NOT_FOUND', `key "${name}": cannot read ${configured.file} (${err.code})`);
      });
      return { material: parseKeyPem(pem, name), source: 'file', location: configured.file };
    }
    if (configured)
      return { material: parseKeyPem(configured.pem, name), source: 'env', location: configured.env };
    const path = pathOf(name);
    const pem = await readFile(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new DomainError('KEY_NOT_FOUND', `no signing key named "${name}"`);
      throw err;
    });
    return { material: parseKeyPem(pem, name), source: 'store', location: path };
  }

  async function info(name: string): Promise<KeyInfo> {
    const { material, source, location } = await load(name);
    return describeKey(name, material, source, location);
  }

  return {
    async generate(name, algorithm) {
      assertKeyName(name);
      assertKeyAlgorithm(algorithm);
      if (external[name]) {
        throw new DomainError(
          'INVALID_INPUT',
          `a key named "${name}" is already configured outside the keys folder`,
        );
      }
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
      const handle = await open(tmp, 'wx', 0o600);
      try {
        await handle.writeFile(generatePrivateKeyPem(algorithm));
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        // The umask can only narrow the mode given to open; chmod makes 0600 explicit whatever it is.
        await chmod(tmp, 0o600);
        // link, not rename: it fails when the name exists, so an existing key is never overwritten, and the key
        // appears complete or not at all.
        await link(tmp, pathOf(name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new DomainError('INVALID_INPUT', `a key named "${name}" already exists in ${dir}`);
        }
        throw err;
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
      return info(name);
    },

    async privateKey(name) {
      return requirePrivate(name, (await load(name)).material);
    },

    async publicKey(name) {
      return (await load(name)).material.publicKey;
    },

    info,

    async list() {
      const files = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return [] as string[];
        throw err;
      });
      const names = new Set(Object.keys(external));
      for (const file of files) {
        const name = file.slice(0, -PEM_SUFFIX.length);
        if (file.endsWith(PEM_SUFFIX) && isValidName(name)) names.add(name);
      }
      return Promise.all([...names].sort().map(info));
    },
  };
}
