import { createHmac, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Passwords (HTTP Basic device auth, chosen by people and so guessable) are stored as scrypt hashes, never as
 * plain SHA-256: `scrypt$<N>$<r>$<p>$<salt base64>$<key base64>` (RFC 7914 parameters).
 */
const DEFAULTS = { N: 16384, r: 8, p: 1 };
const KEY_LENGTH = 32;
const ENCODED = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

function derive(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, length, { ...options, maxmem: 256 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string, params = DEFAULTS): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, KEY_LENGTH, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export const isPasswordHash = (value: unknown): value is string =>
  typeof value === 'string' && ENCODED.test(value);

/**
 * A verifier with a memo of recent successes. scrypt costs tens of milliseconds by design, and a device sends
 * the same credentials on every poll; the memo is keyed by an HMAC under a per-process random key, so it holds
 * neither the password nor anything comparable across processes. Failures are never memoised.
 */
export function createPasswordVerifier(maxEntries = 10_000) {
  const memoKey = randomBytes(32);
  const verified = new Set<string>();

  return async function verifyPassword(password: string, encoded: string): Promise<boolean> {
    const m = ENCODED.exec(encoded);
    if (!m) return false;
    const memo = createHmac('sha256', memoKey).update(encoded).update('\0').update(password).digest('base64');
    if (verified.has(memo)) return true;
    const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const salt = Buffer.from(m[4] as string, 'base64');
    const expected = Buffer.from(m[5] as string, 'base64');
    if (expected.length === 0) return false;
    let key: Buffer;
    try {
      key = await derive(password, salt, expected.length, { N, r, p });
    } catch {
      return false; // parameters no scrypt accepts: a hash nobody can match
    }
    if (!timingSafeEqual(key, expected)) return false;
    if (verified.size >= maxEntries) verified.clear();
    verified.add(memo);
    return true;
  };
}
