import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DedupCache } from '../../src/transports/coap/dedup-cache.js';

describe('CoAP dedup cache bounds', () => {
  it('forgets the oldest exchanges once the remembered response bytes pass maxBytes', () => {
    let now = Date.parse('2026-12-01T00:00:00Z');
    const cache = new DedupCache({ maxBytes: 3000, maxEntries: 100, now: () => now });
    try {
      for (let i = 0; i < 5; i++) cache.complete(cache.begin(`peer|${i}`), Buffer.alloc(1000));
      assert.equal(cache.bytes, 3000);
      assert.equal(cache.size, 3);
      assert.equal(cache.get('peer|0'), undefined);
      assert.equal(cache.get('peer|1'), undefined);
      assert.equal(cache.get('peer|4')?.response?.length, 1000);
      // Expiry gives the bytes back too.
      now += 300_000;
      cache.sweep();
      assert.equal(cache.size, 0);
      assert.equal(cache.bytes, 0);
    } finally {
      cache.close();
    }
  });

  it('does not count an entry evicted while its handler ran', () => {
    const cache = new DedupCache({ maxEntries: 1 });
    try {
      const first = cache.begin('a');
      cache.complete(cache.begin('b'), Buffer.alloc(10));
      cache.complete(first, Buffer.alloc(500));
      assert.equal(cache.bytes, 10);
      assert.equal(cache.get('a'), undefined);
    } finally {
      cache.close();
    }
  });
});
