/**
 * Token buckets by key (a source address, a product): `burst` tokens, refilled at `perSecond`. O(1) per call
 * and bounded in memory: beyond `maxKeys` the least recently refilled key is dropped (it starts full again,
 * which only ever favours the client). Used where the cost of an attempt must not be the attacker's choice:
 * failed HTTP Basic checks (issue 13, defect 8) and CoAP datagrams per source (RFC 7252 §11.3).
 */
export function createRateLimiter(o: { burst: number; perSecond: number; maxKeys?: number }) {
  const maxKeys = o.maxKeys ?? 100_000;
  const buckets = new Map<string, { tokens: number; at: number }>();

  function refill(key: string, now: number): { tokens: number; at: number } {
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value as string);
      bucket = { tokens: o.burst, at: now };
    } else {
      bucket.tokens = Math.min(o.burst, bucket.tokens + ((now - bucket.at) / 1000) * o.perSecond);
      bucket.at = now;
      return bucket;
    }
    buckets.set(key, bucket);
    return bucket;
  }

  return {
    /** Whether `key` has a token left, without taking it. */
    allows(key: string, now = Date.now()): boolean {
      return refill(key, now).tokens >= 1;
    },
    /** Takes a token; false (nothing taken) when there is none. */
    take(key: string, now = Date.now()): boolean {
      const bucket = refill(key, now);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
    /** Returns a token taken for an attempt that turned out not to count (a success). */
    give(key: string, now = Date.now()): void {
      const bucket = refill(key, now);
      bucket.tokens = Math.min(o.burst, bucket.tokens + 1);
    },
    /** Seconds until `key` has a token again. */
    retryAfter(key: string, now = Date.now()): number {
      const bucket = refill(key, now);
      return bucket.tokens >= 1 ? 0 : Math.ceil((1 - bucket.tokens) / o.perSecond);
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
