import { createHash, timingSafeEqual } from 'node:crypto';
import type { Product } from '../../../../core/catalog/types.js';
import { createPasswordVerifier, isPasswordHash } from '../../../../core/tokens/password.js';
import { createRateLimiter } from '../../../../core/rate-limit.js';

/**
 * Optional per-product HTTP Basic auth (RFC 7617), which both Arduino cores can send
 * (`setAuthorization(user, pass)`). Product setting:
 * `settings.httpBasicAuth = { "username": "...", "passwordHash": "scrypt$..." }` (`updraft basic-auth`).
 *
 * Answers as the clients tell them apart: no or unreadable credentials → 401 (ESP8266 error -108
 * "Unauthorized"), wrong credentials → 403 (-103 "Forbidden" on both cores).
 */
export type BasicAuthResult = 'ok' | 'missing' | 'wrong' | 'misconfigured' | { limited: number };

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

/** Whether the product asks for credentials at all (most do not: their devices skip the check, and its promise). */
export const requiresBasicAuth = (product: Product): boolean =>
  product.settings.httpBasicAuth !== undefined && product.settings.httpBasicAuth !== null;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Failed attempts allowed before new credentials are refused with 429 (issue 13, defect 8): per source address
 * 10 at once then 10 a minute, per product 100 at once then 100 a minute. Credentials already verified (the
 * memo) and failures already remembered never reach these limits, so a flood costs at most the budget in scrypt
 * runs while known devices keep working. docs/security.md has the numbers.
 */
const PER_SOURCE = { burst: 10, perSecond: 10 / 60 };
const PER_PRODUCT = { burst: 100, perSecond: 100 / 60 };

export function createBasicAuth() {
  const verifier = createPasswordVerifier();
  const sources = createRateLimiter(PER_SOURCE);
  const products = createRateLimiter(PER_PRODUCT);

  return async function checkBasicAuth(
    product: Product,
    authorization: string | undefined,
    source = '',
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
    const password = decoded.slice(colon + 1);
    const known = verifier.known(password, setting.passwordHash);
    if (known !== undefined) return userMatches && known === 'ok' ? 'ok' : 'wrong';
    // Unknown credentials cost an scrypt: only within the failure budgets of the source and the product. The
    // token is taken before the check (concurrent attempts cannot all slip through) and given back on success.
    if (!sources.take(source)) return { limited: sources.retryAfter(source) };
    if (!products.take(product.name)) {
      sources.give(source);
      return { limited: products.retryAfter(product.name) };
    }
    // The password is checked even for a wrong user name, so timing does not reveal the name.
    const checked = await verifier.verify(password, setting.passwordHash);
    if (checked === 'wrong') return 'wrong';
    sources.give(source);
    products.give(product.name);
    if (checked === 'busy') return { limited: 1 };
    return userMatches ? 'ok' : 'wrong';
  };
}
