import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobDigests, BlobStore } from '../../src/core/blobs/blob-store.js';
import { isDomainError } from '../../src/core/errors.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
async function bytes(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The behaviour every BlobStore implementation must have; run on the filesystem store and on S3 (RGW). */
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
    assert.deepEqual(await store.list(), [d.sha256]);
  });

  it('stores a blob larger than one upload part (17 MiB + 5, unaligned pieces) byte for byte', async () => {
    const store = await make();
    const data = randomBytes(17 * 1024 * 1024 + 5);
    const pieces = [];
    for (let at = 0; at < data.length; at += 777_777) pieces.push(data.subarray(at, at + 777_777));
    const d = await store.put(Readable.from(pieces));
    assert.equal(d.sha256, sha256(data));
    assert.equal(d.size, data.length);
    assert.equal(sha256(await bytes(await store.createReadStream(d.sha256))), d.sha256);
    const tail = await bytes(
      await store.createReadStream(d.sha256, { start: 9_000_000, end: data.length - 1 }),
    );
    assert.deepEqual(tail, data.subarray(9_000_000));
  });

  it('reads byte ranges and blocks', async () => {
    const store = await make();
    const data = randomBytes(600_000);
    const { sha256: key } = await store.put(Readable.from([data]));
    assert.deepEqual(
      await bytes(await store.createReadStream(key, { start: 100, end: 199 })),
      data.subarray(100, 200),
    );
    assert.deepEqual(
      await bytes(await store.createReadStream(key, { start: 1000, end: 599_999 })),
      data.subarray(1000),
    );
    assert.deepEqual(await store.read(key, 0, 512), data.subarray(0, 512));
    // A block across an internal boundary of any chunking, and one past the end.
    assert.deepEqual(await store.read(key, 262_000, 1024), data.subarray(262_000, 263_024));
    assert.deepEqual(await store.read(key, 599_990, 64), data.subarray(599_990));
    assert.equal((await store.read(key, 700_000, 16)).length, 0);
  });

  it('refuses an oversized or mismatching upload and keeps nothing', async () => {
    const store = await make();
    await assert.rejects(store.put(Readable.from([randomBytes(2000)]), { maxBytes: 1000 }), (e) =>
      isDomainError(e, 'UPLOAD_TOO_LARGE'),
    );
    await assert.rejects(
      store.put(Readable.from([Buffer.from('abc')]), { expectedSha256: '0'.repeat(64) }),
      (e) => isDomainError(e, 'DIGEST_MISMATCH'),
    );
    await assert.rejects(
      store.put(Readable.from([Buffer.from('abc')]), { expectedMd5: '0'.repeat(32) }),
      (e) => isDomainError(e, 'DIGEST_MISMATCH'),
    );
    assert.deepEqual(await store.list(), []);
    const ok = Buffer.from('abc');
    const d = await store.put(Readable.from([ok]), {
      expectedSha256: sha256(ok).toUpperCase(),
      expectedMd5: createHash('md5').update(ok).digest('hex'),
    });
    assert.deepEqual(await store.list(), [d.sha256]);
    assert.equal(await store.sweepIncomplete(), 0, 'the refused uploads left nothing to sweep');
  });

  it('refuses an aborted upload and keeps nothing', async () => {
    const store = await make();
    const controller = new AbortController();
    async function* slow() {
      yield randomBytes(1000);
      controller.abort();
      await new Promise((r) => setTimeout(r, 10));
      yield randomBytes(1000);
    }
    await assert.rejects(store.put(slow(), { signal: controller.signal }), (e: Error) => {
      assert.equal(e.name, 'AbortError');
      return true;
    });
    assert.deepEqual(await store.list(), []);
    assert.equal(await store.sweepIncomplete(), 0);
  });

  it('calls beforePublish with the digests while the blob is still invisible; a throw keeps nothing', async () => {
    const store = await make();
    const data = randomBytes(5000);
    let seen: { digests: BlobDigests; visible: boolean } | undefined;
    const d = await store.put(Readable.from([data]), {
      beforePublish: async (digests) => {
        seen = { digests, visible: (await store.stat(digests.sha256)) !== undefined };
      },
    });
    assert.deepEqual(seen, { digests: d, visible: false });
    assert.deepEqual(await store.stat(d.sha256), { size: 5000 });

    const refused = randomBytes(5000);
    await assert.rejects(
      store.put(Readable.from([refused]), {
        beforePublish: async () => {
          throw new Error('the database is gone');
        },
      }),
      /the database is gone/,
    );
    assert.equal(await store.stat(sha256(refused)), undefined);
    assert.deepEqual(await store.list(), [d.sha256]);
    assert.equal(await store.sweepIncomplete(), 0);
  });

  it('a sweep with an age leaves an upload in progress alone', async () => {
    const store = await make();
    const data = randomBytes(9 * 1024 * 1024);
    let release!: () => void;
    const paused = new Promise<void>((r) => (release = r));
    let reached!: () => void;
    const halfway = new Promise<void>((r) => (reached = r));
    async function* source() {
      // More than one upload part goes out before the pause, so an S3 store has a multipart upload open.
      for (let at = 0; at < data.length; at += 1024 * 1024) {
        if (at === 8 * 1024 * 1024) {
          reached();
          await paused;
        }
        yield data.subarray(at, at + 1024 * 1024);
      }
    }
    const putting = store.put(source());
    await halfway;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await store.sweepIncomplete(60_000), 0);
    release();
    const d = await putting;
    assert.equal(d.sha256, sha256(data));
    assert.equal(sha256(await bytes(await store.createReadStream(d.sha256))), d.sha256);
  });

  it('answers BLOB_NOT_FOUND for a missing, deleted or malformed key, and deletes idempotently', async () => {
    const store = await make();
    const missing = 'f'.repeat(64);
    await assert.rejects(store.createReadStream(missing), (e) => isDomainError(e, 'BLOB_NOT_FOUND'));
    await assert.rejects(store.read(missing, 0, 16), (e) => isDomainError(e, 'BLOB_NOT_FOUND'));
    await assert.rejects(store.createReadStream('../../etc/passwd'), (e) =>
      isDomainError(e, 'BLOB_NOT_FOUND'),
    );
    await assert.rejects(store.read('../x', 0, 1), (e) => isDomainError(e, 'BLOB_NOT_FOUND'));
    assert.equal(await store.stat('../x'), undefined);
    assert.equal(await store.stat(missing), undefined);
    const gone = Buffer.from('gone');
    const { sha256: key } = await store.put(Readable.from([gone]));
    assert.deepEqual(await store.read(key, 0, 16), gone);
    await store.delete(key);
    await store.delete(key);
    assert.equal(await store.stat(key), undefined);
    assert.deepEqual(await store.list(), []);
    await assert.rejects(store.createReadStream(key), (e) => isDomainError(e, 'BLOB_NOT_FOUND'));
  });

  it('is ready', async () => {
    const store = await make();
    await store.check();
    assert.deepEqual(await store.list(), [], 'the readiness probe leaves nothing behind');
  });
}
