import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../errors.js';
import { isoNow, systemClock, type Clock } from '../clock.js';
import { assertValidName } from '../names.js';
import type { TokenKind, TokenRecord, TokenRepository } from './types.js';
import { unauditedLog, type AuditLog } from '../audit/audit-log.js';
import type { Actor } from '../audit/types.js';

/**
 * Tokens are 160- or 256-bit random values, so a plain SHA-256 is enough to store them (no password stretching
 * needed: there is nothing to brute-force). Verification hashes the candidate and compares it with every stored
 * hash in constant time, without an early exit, so timing tells nothing about which token nearly matched.
 */
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** ESP-AT modules carry a 40-hex-character token (the seed's `authorisation_key_gen.py`). */
export const newDeviceToken = (): string => randomBytes(20).toString('hex');
export const newAdminToken = (): string => randomBytes(32).toString('hex');

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
  cacheTtlMs?: number;
  /** Each change and its audit record in one transaction; without it nothing is recorded. */
  audit?: Pick<AuditLog, 'withAudit'>;
}

export function createTokenService({ tokens, clock = systemClock, ...options }: TokenServiceDeps) {
  const configuredHash = options.configuredAdminToken ? hashToken(options.configuredAdminToken) : undefined;
  let cache: { at: number; list: Promise<TokenRecord[]> } | undefined;
  const ttl = options.cacheTtlMs ?? 5000;
  const audit = options.audit ?? unauditedLog({ tokens });

  function all(): Promise<TokenRecord[]> {
    if (!cache || Date.now() - cache.at > ttl) {
      const list = tokens.list();
      list.catch(() => (cache = undefined));
      cache = { at: Date.now(), list };
    }
    return cache.list;
  }

  async function match(token: string, kind: TokenKind): Promise<TokenRecord | undefined> {
    const hash = hashToken(token);
    let found: TokenRecord | undefined;
    for (const record of await all()) {
      if (constantTimeEqualHex(record.hash, hash) && record.kind === kind) found = record;
    }
    return found;
  }

  async function create(input: {
    kind: TokenKind;
    name?: string;
    product?: string | null;
    device?: string | null;
    token?: string;
  }): Promise<{ token: string; record: TokenRecord }> {
    const token = input.token ?? (input.kind === 'device' ? newDeviceToken() : newAdminToken());
    if (input.kind === 'device' && !/^[0-9a-fA-F]{40}$/.test(token)) {
      throw new DomainError('INVALID_INPUT', 'a device token is 40 hexadecimal characters');
    }
    const record: TokenRecord = {
      id: randomUUID(),
      kind: input.kind,
      name: input.name ? assertValidName(input.name, 'token name') : `${input.kind}-${token.slice(0, 6)}`,
      hash: hashToken(token),
      product: input.product ?? null,
      device: input.device ?? null,
      createdAt: isoNow(clock),
    };
    await audit.withAudit(
      'token.create',
      record.id,
      (tx) => tx.tokens.create(record),
      // The token's name and limits, never its value or hash.
      () => ({ kind: record.kind, name: record.name, product: record.product, device: record.device }),
    );
    cache = undefined;
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
      const stored = await match(token, 'admin');
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
    async bootstrapAdmin(): Promise<string | undefined> {
      if (configuredHash) return undefined;
      if ((await tokens.list('admin')).length > 0) return undefined;
      return (await create({ kind: 'admin', name: 'bootstrap' })).token;
    },

    list: (kind?: TokenKind) => tokens.list(kind),

    async revoke(id: string): Promise<void> {
      await audit.withAudit(
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
      cache = undefined;
    },
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
