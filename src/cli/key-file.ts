import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The ESP-AT seed's key file (devtank authorisation_key_gen.py): a JSON array of `{"Name", "Token"}`, written
 * by `json.dumps(indent=2)` with no trailing newline, which `JSON.stringify(value, null, 2)` reproduces.
 */
export interface SeedKey {
  Name: string;
  Token: string | null;
  [extra: string]: unknown;
}

export async function readKeyFile(path: string): Promise<SeedKey[]> {
  const data = JSON.parse(await readFile(path, 'utf8')) as unknown;
  if (!Array.isArray(data)) throw new Error(`${path}: expected a JSON array of {"Name", "Token"}`);
  return data.map((entry: unknown, i) => {
    const e = entry as Partial<SeedKey> | null;
    if (!e || typeof e !== 'object' || typeof e.Name !== 'string') {
      throw new Error(`${path}: entry ${i} has no "Name"`);
    }
    return { ...e, Name: e.Name, Token: typeof e.Token === 'string' ? e.Token : null };
  });
}

/**
 * Replaces the file through a temporary file and a rename, so a reader (or a crash) sees the old or the new
 * file, never a truncated one (the seed's `cat keys.json | gen > keys.json` wiped it 2 times in 6).
 */
export async function writeKeyFile(path: string, keys: SeedKey[]): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, JSON.stringify(keys, null, 2), { mode: 0o600, flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Adds one key (replacing entries with the same Name), keeping every other entry as it was. */
export async function appendKey(path: string, key: SeedKey): Promise<void> {
  let keys: SeedKey[] = [];
  try {
    keys = await readKeyFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await writeKeyFile(path, [...keys.filter((k) => k.Name !== key.Name), key]);
}

/** A seed `Name` as an Updraft token name (letters, digits, `.`, `_`, `+`, `-`; at most 128). */
export function tokenName(name: string): string | undefined {
  const clean = name
    .trim()
    .replace(/[^A-Za-z0-9._+-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^A-Za-z0-9_]+/, '')
    .slice(0, 128);
  return clean || undefined;
}
