import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import type { BlobStore } from '../../src/core/blobs/blob-store.js';
import { isDomainError } from '../../src/core/errors.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
async function bytes(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The behaviour every BlobStore implementation must have (filesystem now; S3 runs the same suite). */
export function blobStoreContract(make: () => Promise<BlobStore>): void {
  it('stores a stream and returns its digests and size', async () => {
    const store = await make();
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const d = await store.put(Readable.from([data.subarray(0, 1000), data.subarray(1000)]));
    assert.deepEqual(d, {
      sha256: sha256(data),
      md5: createHash('md5').update(data).digest('hex'),
      size: data.length,
    });
    assert.deepEqual(await store.stat(d.sha256), { size: data.length });
    assert.deepEqual(await bytes(await store.createReadStream(d.sha256)), data);
    assert.ok((await store.list()).includes(d.sha256));
  });

  it('reads byte ranges and blocks without loading the blob', async () => {
    const store = await make();
    const data = randomBytes(10_000);
    const { sha256: key } = await store.put(Readable.from([data]));
    assert.deepEqual(
      await bytes(await store.createReadStream(key, { start: 100, end: 199 })),
      data.subarray(100, 200),
    );
    assert.deepEqual(await store.read(key, 9_990, 64), data.subarray(9_990));
    assert.equal((await store.read(key, 20_000, 16)).length, 0);
  });

  it('refuses an oversized or mismatching upload and keeps nothing', async () => {
    const store = await make();
    const before = (await store.list()).length;
    await assert.rejects(store.put(Readable.from([randomBytes(2000)]), { maxBytes: 1000 }), (e) =>
      isDomainError(e, 'UPLOAD_TOO_LARGE'),
    );
    await assert.rejects(
      store.put(Readable.from([Buffer.from('abc')]), { expectedSha256: '0'.repeat(64) }),
      (e) => isDomainError(e, 'DIGEST_MISMATCH'),
    );
    const ok = Buffer.from('abc');
    await store.put(Readable.from([ok]), { expectedSha256: sha256(ok).toUpperCase() });
    assert.equal((await store.list()).length, before + 1);
    assert.equal(await store.sweepIncomplete(), 0);
  });

  it('refuses an aborted upload and keeps nothing', async () => {
    const store = await make();
    const before = (await store.list()).length;
    const controller = new AbortController();
    async function* slow() {
      yield randomBytes(1000);
      controller.abort();
      await new Promise((r) => setTimeout(r, 10));
      yield randomBytes(1000);
    }
    await assert.rejects(store.put(slow(), { signal: controller.signal }));
    assert.equal((await store.list()).length, before);
  });

  it('answers BLOB_NOT_FOUND for a missing or malformed key, and deletes idempotently', async () => {
    const store = await make();
    await assert.rejects(store.createReadStream('f'.repeat(64)), (e) => isDomainError(e, 'BLOB_NOT_FOUND'));
    await assert.rejects(store.createReadStream('../../etc/passwd'), (e) =>
      isDomainError(e, 'BLOB_NOT_FOUND'),
    );
    assert.equal(await store.stat('../x'), undefined);
    const { sha256: key } = await store.put(Readable.from([Buffer.from('gone')]));
    await store.delete(key);
    await store.delete(key);
    assert.equal(await store.stat(key), undefined);
    assert.equal(await text(Readable.from(['ok'])), 'ok');
  });

  it('is ready', async () => {
    await (await make()).check();
  });
}
