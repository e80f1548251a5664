import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { entryBound } from '../../../../core/cache.js';
import type { EventBus } from '../../../../core/events/event-bus.js';
import type { TokenRecord } from '../../../../core/tokens/types.js';
import type { TokenService } from '../../../../core/tokens/token-service.js';

/**
 * Device tokens as DDI polls present them, remembered by their SHA-256 for a few seconds. The token service
 * compares a token with every stored hash in constant time (token-service.ts), which is O(tokens) per request: a
 * fleet of TargetTokens would pay thousands of comparisons per poll. Keyed by the digest, a lookup here reveals
 * nothing about a token through timing. Only matches are kept (a token created on another replica a moment ago
 * must still be found through the service). Any change of the token list (`tokens` on the bus: a create or a
 * revoke on any replica, or `*`) drops everything at once, and the TTL is the token service's own safety net.
 */
export function createTokenLookup(
  tokens: Pick<TokenService, 'authenticateDevice'>,
  bus: Pick<EventBus, 'subscribe'>,
  { ttlMs = 5000, max = 10_000 } = {},
) {
  const known = new LRUCache<string, TokenRecord>({ ...entryBound(max), ttl: ttlMs });
  // Bumped by every drop: a lookup that started before a revoke must not store its (now stale) answer.
  let generation = 0;
  const unsubscribe = bus.subscribe((message) => {
    if (message.kind === 'invalidate' && (message.cache === 'tokens' || message.cache === '*')) {
      generation++;
      known.clear();
    }
  });
  return {
    async authenticate(token: string): Promise<TokenRecord | undefined> {
      const key = hash('sha256', token, 'base64');
      const hit = known.get(key);
      if (hit) return hit;
      const started = generation;
      const record = await tokens.authenticateDevice(token);
      if (record && started === generation) known.set(key, record);
      return record;
    },
    close: unsubscribe,
  };
}

export type TokenLookup = ReturnType<typeof createTokenLookup>;
