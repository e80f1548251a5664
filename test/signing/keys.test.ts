import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPublicKey, sign, verify } from 'node:crypto';
import { loadConfig } from '../../src/config/config.js';
import { createMemoryKeyStore, type KeyStore } from '../../src/core/keys/index.js';
import { isDomainError } from '../../src/core/errors.js';
import { createFsKeyStore } from '../../src/storage/keys/fs-key-store.js';
import { tempDir } from '../support/server.js';

const FIXTURE_PUBLIC = new URL('../fixtures/suit/riot-draft09/test-only-ed25519-public.pem', import.meta.url);
const FIXTURE_PRIVATE = new URL(
  '../fixtures/suit/riot-draft09/test-only-ed25519-private.pem',
  import.meta.url,
);

function cli(args: string[]): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { ...process.env, UPDRAFT_DATA: '' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

async function rejects(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => isDomainError(err) && err.code === code);
}

/** The KeyStore contract, run on every implementation (the fake included) so they cannot drift apart. */
function keyStoreContract(name: string, open: (publicKeys?: Record<string, string>) => Promise<KeyStore>) {
  describe(`KeyStore contract: ${name}`, () => {
    it('generates every algorithm, signs with the private half and verifies with the public one', async () => {
      const store = await open();
      for (const alg of ['ed25519', 'es256', 'rsa2048'] as const) {
        const info = await store.generate(`k-${alg}`, alg);
        assert.equal(info.algorithm, alg);
        assert.equal(info.private, true);
        assert.match(info.fingerprint, /^[0-9a-f]{64}$/);
        assert.match(info.publicKeyPem, /BEGIN PUBLIC KEY/);
        assert.doesNotMatch(JSON.stringify(info), /PRIVATE/);
        const data = Buffer.from('firmware');
        const hash = alg === 'ed25519' ? null : 'sha256';
        const signature = sign(hash, data, await store.privateKey(info.name));
        assert.ok(verify(hash, data, await store.publicKey(info.name), signature));
      }
      assert.deepEqual(
        (await store.list()).map((k) => k.name),
        ['k-ed25519', 'k-es256', 'k-rsa2048'],
      );
    });

    it('refuses a taken name, a bad name, an unknown algorithm and an unknown key', async () => {
      const store = await open();
      await store.generate('taken', 'ed25519');
      const before = (await store.info('taken')).fingerprint;
      await rejects(store.generate('taken', 'ed25519'), 'INVALID_INPUT');
      assert.equal((await store.info('taken')).fingerprint, before, 'an existing key is never overwritten');
      await rejects(store.generate('../etc', 'ed25519'), 'INVALID_NAME');
      await rejects(store.generate('x', 'dsa' as 'ed25519'), 'KEY_INVALID');
      await rejects(store.privateKey('missing'), 'KEY_NOT_FOUND');
      await rejects(store.publicKey('../missing'), 'INVALID_NAME');
    });

    it('holds public-only keys: it verifies with them and refuses to sign', async () => {
      const store = await open({ builder: await readFile(FIXTURE_PUBLIC, 'utf8') });
      const info = await store.info('builder');
      assert.equal(info.private, false);
      assert.equal(info.algorithm, 'ed25519');
      assert.equal((await store.publicKey('builder')).asymmetricKeyType, 'ed25519');
      await rejects(store.privateKey('builder'), 'KEY_INVALID');
    });
  });
}

keyStoreContract('memory', async (publicKeys = {}) => createMemoryKeyStore(publicKeys));

const scratchDirs: string[] = [];
after(() => Promise.all(scratchDirs.map((d) => rm(d, { recursive: true, force: true }))));

keyStoreContract('filesystem', async (publicKeys = {}) => {
  const root = await tempDir('updraft-keys-');
  scratchDirs.push(root);
  const dir = join(root, 'keys');
  await mkdir(dir, { recursive: true });
  for (const [name, pem] of Object.entries(publicKeys)) await writeFile(join(dir, `${name}.pem`), pem);
  return createFsKeyStore({ dir });
});

describe('filesystem key store: files and configured keys', () => {
  let root: string;
  before(async () => {
    root = await tempDir('updraft-keys-');
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('writes <name>.pem with mode 0600 in a 0700 folder, no temp file left', async () => {
    const dir = join(root, 'keys');
    await createFsKeyStore({ dir }).generate('riot', 'ed25519');
    assert.equal((await stat(join(dir, 'riot.pem'))).mode & 0o777, 0o600);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.deepEqual(await readdir(dir), ['riot.pem']);
  });

  it('takes keys from a configured file and from UPDRAFT_KEY_<NAME>, which win over the folder', async () => {
    const pem = await readFile(FIXTURE_PRIVATE, 'utf8');
    const config = loadConfig(
      { dataDir: root },
      {
        UPDRAFT_SIGNING_KEY_FILES: `fixture=${FIXTURE_PRIVATE.pathname}`,
        UPDRAFT_KEY_FROM_ENV: pem,
      },
    );
    assert.equal(config.keysDir, join(root, 'keys'));
    assert.deepEqual(Object.keys(config.signingKeys).sort(), ['fixture', 'from_env']);
    const store = createFsKeyStore({ dir: config.keysDir, external: config.signingKeys });
    const expected = createPublicKey(pem).export({ format: 'jwk' }).x;
    for (const name of ['fixture', 'from_env']) {
      assert.equal((await store.publicKey(name)).export({ format: 'jwk' }).x, expected);
    }
    const listed = await store.list();
    assert.deepEqual(
      listed.map((k) => [k.name, k.source]),
      [
        ['fixture', 'file'],
        ['from_env', 'env'],
        ['riot', 'store'],
      ],
    );
    await rejects(store.generate('fixture', 'ed25519'), 'INVALID_INPUT');
    assert.throws(
      () => loadConfig({ dataDir: root }, { UPDRAFT_SIGNING_KEY_FILES: 'no-equals-sign' }),
      /name=path/,
    );
  });
});

describe('updraft keys (CLI on the local data folder)', () => {
  let data: string;
  before(async () => {
    data = await tempDir('updraft-keys-cli-');
  });
  after(() => rm(data, { recursive: true, force: true }));

  it('generate → 0600 file → export pem, raw (32 bytes) and c-array → list', () => {
    const gen = cli(['keys', 'generate', '--alg', 'ed25519', '--name', 'riot', '--data', data]);
    assert.equal(gen.status, 0, gen.stderr);
    assert.match(gen.stdout.toString(), /^-----BEGIN PUBLIC KEY-----/);
    assert.match(gen.stderr, /0600/);
    return (async () => {
      assert.equal((await stat(join(data, 'keys', 'riot.pem'))).mode & 0o777, 0o600);
      const pem = cli(['keys', 'export', '--name', 'riot', '--format', 'pem', '--data', data]);
      assert.equal(pem.status, 0, pem.stderr);
      assert.equal(pem.stdout.toString(), gen.stdout.toString());
      const raw = cli(['keys', 'export', '--name', 'riot', '--format', 'raw', '--data', data]);
      assert.equal(raw.status, 0, raw.stderr);
      assert.equal(raw.stdout.length, 32);
      const jwkX = createPublicKey(pem.stdout.toString()).export({ format: 'jwk' }).x;
      assert.equal(raw.stdout.toString('base64url'), jwkX);
      const c = cli(['keys', 'export', '--name', 'riot', '--format', 'c-array', '--data', data]);
      assert.equal(c.status, 0, c.stderr);
      const text = c.stdout.toString();
      assert.match(text, /^const uint8_t public_key\[\]\[32\] = \{\n \{\n/);
      const bytes = [...text.matchAll(/0x([0-9a-f]{2})/g)].map((m) => parseInt(m[1] ?? '', 16));
      assert.deepEqual(Buffer.from(bytes), raw.stdout);

      const rsa = cli(['keys', 'generate', '--alg', 'rsa2048', '--name', 'esp', '--data', data, '--json']);
      assert.equal(rsa.status, 0, rsa.stderr);
      assert.equal((JSON.parse(rsa.stdout.toString()) as { algorithm: string }).algorithm, 'rsa2048');
      const rsaRaw = cli(['keys', 'export', '--name', 'esp', '--format', 'raw', '--data', data]);
      assert.equal(rsaRaw.status, 1);
      assert.match(rsaRaw.stderr, /PEM/);

      const list = cli(['keys', 'list', '--data', data, '--json']);
      assert.equal(list.status, 0, list.stderr);
      const items = JSON.parse(list.stdout.toString()) as { name: string; algorithm: string }[];
      assert.deepEqual(
        items.map((k) => [k.name, k.algorithm]),
        [
          ['esp', 'rsa2048'],
          ['riot', 'ed25519'],
        ],
      );
      assert.doesNotMatch(list.stdout.toString(), /PRIVATE/);

      const again = cli(['keys', 'generate', '--name', 'riot', '--data', data]);
      assert.equal(again.status, 1);
      assert.match(again.stderr, /already exists/);
      const badAlg = cli(['keys', 'generate', '--name', 'x', '--alg', 'dsa', '--data', data]);
      assert.equal(badAlg.status, 1);
    })();
  });
});
