import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createChunkCache } from '../../src/storage/blobs/chunk-cache.js';

/**
 * The S3 store's chunk cache behind CoAP blocks and small ranges (issue 12: "through a bounded local cache"). The
 * store's own test counts its GETs against RADOS Gateway (test/e2e/s3-store.test.ts); here the bound itself:
 * memory never exceeds the budget however many blobs are read, and what fell out is fetched again.
 */
describe('S3 chunk cache', () => {
  const blobs = new Map<string, Buffer>([
    ['a', randomBytes(1024 * 1024 + 100)],
    ['b', randomBytes(700_000)],
  ]);
  function cache(maxBytes: number, chunkBytes = 64 * 1024) {
    const loads: string[] = [];
    const c = createChunkCache({
      maxBytes,
      chunkBytes,
      async load(key, start, end) {
        loads.push(`${key}:${start}`);
        await new Promise((r) => setTimeout(r, 1));
        return blobs.get(key)!.subarray(start, end + 1);
      },
    });
    return { c, loads };
  }

  it('stays within its byte budget across blobs and serves every block byte for byte', async () => {
    const budget = 256 * 1024;
    const { c, loads } = cache(budget);
    for (const [key, blob] of blobs) {
      const blocks: Buffer[] = [];
      for (let offset = 0; offset < blob.length; offset += 512) {
        blocks.push(await c.read(key, offset, 512));
        assert.ok(c.cachedBytes() <= budget, `${c.cachedBytes()} bytes cached, budget ${budget}`);
      }
      assert.deepEqual(Buffer.concat(blocks), blob);
    }
    // One load per 64 KiB chunk: 17 for a (the last one short), 11 for b.
    assert.equal(loads.length, 17 + 11);
    assert.ok(c.cachedBytes() > budget - 64 * 1024, `filled up to its budget (${c.cachedBytes()})`);
    // The first chunk of a fell out (least recently used) and is fetched again; b's last one is still there.
    await c.read('a', 0, 512);
    await c.read('b', 699_000, 512);
    assert.equal(loads.length, 17 + 11 + 1);
    assert.equal((await c.read('a', 2_000_000, 16)).length, 0, 'past the end: empty');
  });

  it('shares one fetch between concurrent misses on a chunk, and caches nothing with a zero budget', async () => {
    const { c, loads } = cache(1024 * 1024);
    const blocks = await Promise.all(Array.from({ length: 64 }, (_, i) => c.read('a', i * 1024, 1024)));
    assert.deepEqual(Buffer.concat(blocks), blobs.get('a')!.subarray(0, 64 * 1024));
    assert.equal(loads.length, 1);

    const none = cache(0);
    await none.c.read('b', 0, 512);
    await none.c.read('b', 512, 512);
    assert.equal(none.loads.length, 2);
    assert.equal(none.c.cachedBytes(), 0);
  });
});
