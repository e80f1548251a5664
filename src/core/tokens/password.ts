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

export type PasswordCheck = 'ok' | 'wrong' | 'busy';

export interface VerifierOptions {
  maxEntries?: number;
  /** How long a failed password is remembered (answered without scrypt), ms. */
  failureTtlMs?: number;
  /** scrypt derivations at once: each holds a libuv thread (also used by fs and DNS) and 16 MiB. */
  maxConcurrent?: number;
  /** Derivations waiting beyond that; more are answered `busy` at once. */
  maxQueued?: number;
}

/**
 * A verifier with a memo of recent results. scrypt costs tens of milliseconds and 16 MiB by design, and a device
 * sends the same credentials on every poll; the memo is keyed by an HMAC under a per-process random key, so it
 * holds neither the password nor anything comparable across processes. Failures are remembered briefly too, so
 * a client repeating a wrong password costs nothing (issue 13, defect 8), and derivations run at most
 * `maxConcurrent` at a time so a flood cannot take every libuv thread from file reads and the readiness probe.
 */
export function createPasswordVerifier(options: VerifierOptions = {}) {
  const { maxEntries = 10_000, failureTtlMs = 60_000, maxConcurrent = 1, maxQueued = 32 } = options;
  const memoKey = randomBytes(32);
  const verified = new Set<string>();
  const failed = new Map<string, number>();
  const waiting: (() => void)[] = [];
  let active = 0;
  let derivations = 0;
  let peakConcurrent = 0;

  async function limited<T>(job: () => Promise<T>): Promise<T | 'busy'> {
    if (active >= maxConcurrent) {
      if (waiting.length >= maxQueued) return 'busy';
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    active++;
    peakConcurrent = Math.max(peakConcurrent, active);
    try {
      return await job();
    } finally {
      active--;
      waiting.shift()?.();
    }
  }

  const memoOf = (password: string, encoded: string) =>
    createHmac('sha256', memoKey).update(encoded).update('\0').update(password).digest('base64');

  /** What is known without scrypt: `ok`, `wrong` (remembered failure or malformed), or undefined. */
  function known(password: string, encoded: string): 'ok' | 'wrong' | undefined {
    if (!ENCODED.test(encoded)) return 'wrong';
    const memo = memoOf(password, encoded);
    if (verified.has(memo)) return 'ok';
    const until = failed.get(memo);
    if (until !== undefined && until > Date.now()) return 'wrong';
    if (until !== undefined) failed.delete(memo);
    return undefined;
  }

  async function verify(password: string, encoded: string): Promise<PasswordCheck> {
    const cached = known(password, encoded);
    if (cached) return cached;
    const m = ENCODED.exec(encoded) as RegExpExecArray;
    const memo = memoOf(password, encoded);
    const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const salt = Buffer.from(m[4] as string, 'base64');
    const expected = Buffer.from(m[5] as string, 'base64');
    if (expected.length === 0) return 'wrong';
    const key = await limited(async () => {
      derivations++;
      try {
        return await derive(password, salt, expected.length, { N, r, p });
      } catch {
        return undefined; // parameters no scrypt accepts: a hash nobody can match
      }
    });
    if (key === 'busy') return 'busy';
    if (!key || !timingSafeEqual(key, expected)) {
      if (failed.size >= maxEntries) failed.clear();
      failed.set(memo, Date.now() + failureTtlMs);
      return 'wrong';
    }
    if (verified.size >= maxEntries) verified.clear();
    verified.add(memo);
    return 'ok';
  }

  return {
    known,
    verify,
    /** For tests and metrics: scrypt runs so far, and the most that ran at once. */
    stats: () => ({ derivations, peakConcurrent }),
  };
}

export type PasswordVerifier = ReturnType<typeof createPasswordVerifier>;
