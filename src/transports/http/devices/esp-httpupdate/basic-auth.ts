import { createHash, timingSafeEqual } from 'node:crypto';
import type { Product } from '../../../../core/catalog/types.js';
import { createPasswordVerifier, isPasswordHash } from '../../../../core/tokens/password.js';

/**
 * Optional per-product HTTP Basic auth (RFC 7617), which both Arduino cores can send
 * (`setAuthorization(user, pass)`). Product setting:
 * `settings.httpBasicAuth = { "username": "...", "passwordHash": "scrypt$..." }` (`updraft basic-auth`).
 *
 * Answers as the clients tell them apart: no or unreadable credentials → 401 (ESP8266 error -108
 * "Unauthorized"), wrong credentials → 403 (-103 "Forbidden" on both cores).
 */
export type BasicAuthResult = 'ok' | 'missing' | 'wrong' | 'misconfigured';

interface BasicAuthSetting {
  username: string;
  passwordHash: string;
}

function settingOf(product: Product): BasicAuthSetting | 'invalid' | undefined {
  const value = product.settings.httpBasicAuth;
  if (value === undefined || value === null) return undefined;
  const v = value as Partial<BasicAuthSetting>;
  if (typeof v !== 'object' || typeof v.username !== 'string' || !isPasswordHash(v.passwordHash))
    return 'invalid';
  return { username: v.username, passwordHash: v.passwordHash };
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function createBasicAuth() {
  const verifyPassword = createPasswordVerifier();

  return async function checkBasicAuth(
    product: Product,
    authorization: string | undefined,
  ): Promise<BasicAuthResult> {
    const setting = settingOf(product);
    if (setting === undefined) return 'ok';
    if (setting === 'invalid') return 'misconfigured';
    const m = authorization ? /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(authorization.trim()) : null;
    if (!m) return 'missing';
    const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return 'missing';
    const userMatches = timingSafeEqual(digest(decoded.slice(0, colon)), digest(setting.username));
    // The password is checked even for a wrong user name, so timing does not reveal the name.
    const passwordMatches = await verifyPassword(decoded.slice(colon + 1), setting.passwordHash);
    return userMatches && passwordMatches ? 'ok' : 'wrong';
  };
}
