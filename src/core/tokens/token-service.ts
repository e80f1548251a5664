import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../errors.js';
import { isoNow, systemClock, type Clock } from '../clock.js';
import { assertValidName } from '../names.js';
import { createSnapshot } from '../cache.js';
import type { EventBus } from '../events/event-bus.js';
import type { TokenKind, TokenRecord, TokenRepository } from './types.js';
import { unauditedLog, type AuditLog } from '../audit/audit-log.js';
import type { Actor, AuditContext } from '../audit/types.js';

/**
 * Tokens are 160- or 256-bit random values, so a plain SHA-256 is enough to store them (no password stretching
 * needed: there is nothing to brute-force). Verification hashes the candidate and compares it with every stored
 * hash in constant time, without an early exit, so timing tells nothing about which token nearly matched.
 */
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** ESP-AT modules carry a 40-hex-character token (the seed's `authorisation_key_gen.py`). */
export const newDeviceToken = (): string => randomBytes(20).toString('hex');
export const newAdminToken = (): string => randomBytes(32).toString('hex');

/**
 * What an `Authorization` header can carry after `token `: visible ASCII and inner spaces, 1-256 characters. The
 * seed compared the rest of the header with `==`, so `two words` was a key; a leading or trailing space is not
 * (HTTP drops whitespace around a header value, RFC 9110 §5.5).
 */
export const TOKEN_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]{0,254}[\x21-\x7e])?$/;
/** Admin tokens travel as `Bearer <token>` (RFC 6750 §2.1: no spaces). */
const ADMIN_TOKEN_VALUE = /^[\x21-\x7e]{1,256}$/;

function constantTimeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A device token without a limit is valid for every product and device (the ESP-AT seed's key file). */
export function deviceTokenAllows(record: TokenRecord, scope: { product: string; device?: string }): boolean {
  if (record.product && record.product !== scope.product) return false;
  if (record.device && record.device !== scope.device) return false;
  return true;
}

export interface TokenServiceDeps {
  tokens: TokenRepository;
  clock?: Clock;
  /** An admin token given by configuration (UPDRAFT_ADMIN_TOKEN): valid, never stored. */
  configuredAdminToken?: string;
  /** How long verification may use the cached token list (a safety net under the bus), ms. */
  cacheTtlMs?: number;
  /** Carries a revoke to every replica, so the token is refused everywhere at once. */
  bus?: EventBus;
  /** Each change and its audit record in one transaction; without it nothing is recorded. */
  audit?: Pick<AuditLog, 'withAudit'>;
}

/**
 * The first-start admin token has a fixed id, so that two replicas starting together on an empty database cannot
 * both create one: the second insert hits the primary key, and only the first prints its token.
 */
export const BOOTSTRAP_TOKEN_ID = '00000000-0000-4000-8000-00000000b007';

export function createTokenService({ tokens, clock = systemClock, ...options }: TokenServiceDeps) {
  const configuredHash = options.configuredAdminToken ? hashToken(options.configuredAdminToken) : undefined;
  const cache = createSnapshot<TokenRecord[]>({
    name: 'tokens',
    ttlMs: options.cacheTtlMs ?? 5000,
    clock,
    bus: options.bus,
    load: () => tokens.list(),
  });
  const all = cache.get;
  const audit = options.audit ?? unauditedLog({ tokens });

  function scan(records: TokenRecord[], hash: string, kind: TokenKind): TokenRecord | undefined {
    let found: TokenRecord | undefined;
    for (const record of records) {
      if (constantTimeEqualHex(record.hash, hash) && record.kind === kind) found = record;
    }
    return found;
  }

  // A token created through another replica a moment ago may not be in this one's copy yet (the bus message is
  // milliseconds behind the API's answer): a miss reloads the list, at most once per MISS_RELOAD_MS, so a flood
  // of wrong tokens costs a bounded number of queries.
  const MISS_RELOAD_MS = 100;
  let lastMissReload = Number.NEGATIVE_INFINITY;

  async function match(
    token: string,
    kind: TokenKind,
    { reloadOnMiss = true } = {},
  ): Promise<TokenRecord | undefined> {
    const hash = hashToken(token);
    const found = scan(await all(), hash, kind);
    if (found || !reloadOnMiss) return found;
    const now = clock().getTime();
    if (now - lastMissReload < MISS_RELOAD_MS) return undefined;
    lastMissReload = now;
    cache.drop();
    return scan(await all(), hash, kind);
  }

  async function create(
    by: AuditContext,
    input: {
      kind: TokenKind;
      name?: string;
      product?: string | null;
      device?: string | null;
      token?: string;
      id?: string;
    },
  ): Promise<{ token: string; record: TokenRecord }> {
    const token = input.token ?? (input.kind === 'device' ? newDeviceToken() : newAdminToken());
    // The ESP-AT seed accepted any string as a key (it compared `Authorization: token <rest>` with ==), so an
    // imported device token may be any visible ASCII with inner spaces; new ones are 40 hex characters
    // (authorisation_key_gen.py).
    if (
      typeof token !== 'string' ||
      !(input.kind === 'admin' ? ADMIN_TOKEN_VALUE : TOKEN_VALUE).test(token)
    ) {
      throw new DomainError(
        'INVALID_INPUT',
        input.kind === 'admin'
          ? 'an admin token is 1-256 visible ASCII characters, without spaces'
          : 'a device token is 1-256 visible ASCII characters, spaces only between them',
      );
    }
    const name = input.name
      ? assertValidName(input.name, 'token name')
      : `${input.kind}-${randomBytes(3).toString('hex')}`;
    const hash = hashToken(token);
    const existing = await tokens.list();
    if (existing.some((t) => t.name === name)) {
      throw new DomainError('TOKEN_EXISTS', `a token named "${name}" exists`, { name });
    }
    if (existing.some((t) => constantTimeEqualHex(t.hash, hash))) {
      throw new DomainError('TOKEN_EXISTS', 'this token value is already registered', { name });
    }
    const record: TokenRecord = {
      id: input.id ?? randomUUID(),
      kind: input.kind,
      name,
      hash,
      product: input.product ?? null,
      device: input.device ?? null,
      createdAt: isoNow(clock),
    };
    await audit.withAudit(
      by,
      'token.create',
      record.id,
      (tx) => tx.tokens.create(record),
      // The token's name and limits, never its value or hash.
      () => ({ kind: record.kind, name: record.name, product: record.product, device: record.device }),
    );
    cache.invalidate();
    return { token, record };
  }

  return {
    create,

    async verifyAdmin(token: string | undefined): Promise<boolean> {
      return (await this.authenticateAdmin(token)) !== undefined;
    },

    /** The admin token's identity for the audit log; undefined when the token is not a valid admin token. */
    async authenticateAdmin(token: string | undefined): Promise<Actor | undefined> {
      if (!token) return undefined;
      const configured =
        configuredHash !== undefined && constantTimeEqualHex(configuredHash, hashToken(token));
      // The configured token is never stored: it must not cost a reload on every request.
      const stored = await match(token, 'admin', { reloadOnMiss: !configured });
      if (stored) return { id: stored.id, name: stored.name };
      return configured ? { id: 'config', name: 'UPDRAFT_ADMIN_TOKEN' } : undefined;
    },

    /**
     * The device token's record (name and limits), for protocols where the token is the only identity a device
     * sends (ESP-AT): the adapter learns the product and the device from it.
     */
    authenticateDevice(token: string | undefined): Promise<TokenRecord | undefined> {
      return token ? match(token, 'device') : Promise.resolve(undefined);
    },

    /** Whether a device token may fetch `product` (and, if the token is bound to one, as `device`). */
    async verifyDevice(
      token: string | undefined,
      scope: { product: string; device?: string },
    ): Promise<boolean> {
      const record = token ? await match(token, 'device') : undefined;
      return record !== undefined && deviceTokenAllows(record, scope);
    },

    /** First start: when no admin token exists and none is configured, make one to print once. */
    async bootstrapAdmin(by: AuditContext): Promise<string | undefined> {
      if (configuredHash) return undefined;
      if ((await tokens.list('admin')).length > 0) return undefined;
      try {
        return (await create(by, { kind: 'admin', name: 'bootstrap', id: BOOTSTRAP_TOKEN_ID })).token;
      } catch (err) {
        // Another replica created it in between: it printed the token, this one prints nothing.
        if ((await tokens.list('admin')).length > 0) return undefined;
        throw err;
      }
    },

    list: (kind?: TokenKind) => tokens.list(kind),

    async revoke(by: AuditContext, id: string): Promise<void> {
      await audit.withAudit(
        by,
        'token.revoke',
        id,
        async (tx) => {
          const found = (await tx.tokens.list()).find((t) => t.id === id);
          if (!found || !(await tx.tokens.delete(id)))
            throw new DomainError('TOKEN_NOT_FOUND', `no token "${id}"`);
          return found;
        },
        (found) => ({ kind: found.kind, name: found.name }),
      );
      cache.invalidate();
    },
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
