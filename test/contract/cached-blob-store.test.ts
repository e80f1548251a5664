import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { createFsBlobStore } from '../../src/storage/blobs/fs-blob-store.js';
import { createCachedBlobStore } from '../../src/storage/blobs/cached-blob-store.js';
import { tempDir } from '../support/server.js';

describe('memory cache of hot blobs', () => {
  it('stays within its byte budget, evicting the least recently used, and skips large blobs', async () => {
    const inner = createFsBlobStore(await tempDir('updraft-cache-'));
    let reads = 0;
    const counting = { ...inner, read: (k: string, o: number, l: number) => (reads++, inner.read(k, o, l)) };
    const store = createCachedBlobStore(counting, { maxBytes: 3000, maxBlobBytes: 1500 });
    const keys = [];
    for (let i = 0; i < 3; i++) keys.push((await store.put(Readable.from([randomBytes(1000)]))).sha256);
    const big = (await store.put(Readable.from([randomBytes(2000)]))).sha256;
    for (const k of keys) await store.read(k, 0, 10);
    assert.equal(store.cachedBytes(), 3000);
    const before = reads;
    await store.read(keys[0] as string, 10, 10);
    assert.equal(reads, before, 'a hit does not touch the inner store');
    await store.read(big, 0, 10);
    await store.read(big, 0, 10);
    assert.equal(store.cachedBytes(), 3000, 'large blobs are not cached');
    const fourth = (await store.put(Readable.from([randomBytes(1000)]))).sha256;
    await store.read(fourth, 0, 1);
    assert.equal(store.cachedBytes(), 3000);
    const r = reads;
    await store.read(keys[1] as string, 0, 1);
    assert.equal(reads, r + 1, 'keys[1] was the least recently used, so it was evicted and is read again');
  });
});
