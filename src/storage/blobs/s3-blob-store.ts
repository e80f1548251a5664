import { createHash, randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { DomainError } from '../../core/errors.js';
import type { BlobDigests, BlobStore, ByteRange, PutOptions } from '../../core/blobs/blob-store.js';
import { createChunkCache } from './chunk-cache.js';
import { s3Failure } from './s3-errors.js';
import { verifyDigests } from './verify-digests.js';

const SHA256 = /^[0-9a-f]{64}$/;
/** lib-storage's part size: S3's minimum is 5 MiB; the buffer per upload is about queue × part. */
const PART_BYTES = 8 * 1024 * 1024;
const QUEUE = 2;
/** CopyObject copies up to 5 GiB in one request (AWS S3 API reference, CopyObject). */
export const S3_MAX_BLOB_BYTES = 5 * 1024 ** 3;

export interface S3BlobStoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix, '' or ending in '/'. */
  prefix?: string;
  /** Memory for the chunk cache behind `read` and small ranges, bytes. */
  cacheBytes?: number;
  /** One cached piece, bytes. */
  chunkBytes?: number;
  /** `sweepIncomplete` removes temporary objects and multipart uploads older than this, ms. */
  incompleteAfterMs?: number;
  now?: () => Date;
}

/**
 * Content-addressed blobs in an S3 bucket: `<prefix>sha256/ab/abcdef...`. A put streams (multipart, through
 * `@aws-sdk/lib-storage`) to `<prefix>tmp/<time>-<random>` while hashing, checks size and digests against what S3
 * stored (its ETag is the MD5 of a single-part object, or the MD5 of the parts' MD5s), then copies the object to
 * its content-addressed key and deletes the temporary one: a reader never sees a partial object, and a crash
 * leaves only temporary keys and unfinished multipart uploads, which `sweepIncomplete` removes once they are old
 * enough not to belong to an upload still running on another replica. Small reads go through a bounded chunk
 * cache; full downloads are streamed from one ranged GET.
 */
export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore & { cachedBytes(): number } {
  const { client, bucket } = options;
  const prefix = options.prefix ?? '';
  const now = options.now ?? (() => new Date());
  const chunkBytes = options.chunkBytes ?? 256 * 1024;
  const incompleteAfterMs = options.incompleteAfterMs ?? 6 * 3600_000;
  const blobPrefix = `${prefix}sha256/`;
  const tmpPrefix = `${prefix}tmp/`;

  function keyOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new DomainError('BLOB_NOT_FOUND', 'malformed blob key');
    return `${blobPrefix}${sha256.slice(0, 2)}/${sha256}`;
  }

  async function get(sha256: string, range?: ByteRange): Promise<GetObjectCommandOutput> {
    const Key = keyOf(sha256);
    try {
      return await client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
    } catch (err) {
      throw s3Failure(err, 'read', `${bucket}/${Key}`, sha256);
    }
  }

  /** The body as a stream that fails (instead of ending quietly) when the store cuts it short. */
  function exactBody(out: GetObjectCommandOutput, expected: number, what: string): Readable {
    const body = out.Body as Readable;
    let seen = 0;
    const check = new Transform({
      transform(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        done(null, chunk);
      },
      flush(done) {
        done(
          seen === expected
            ? null
            : new DomainError(
                'STORAGE_UNAVAILABLE',
                `object store ended ${what} after ${seen} of ${expected} bytes`,
              ),
        );
      },
    });
    pipeline(body, check).catch((err: unknown) =>
      check.destroy(err instanceof DomainError ? err : s3Failure(err, 'read', `${bucket}/${what}`, what)),
    );
    return check;
  }

  const cache = createChunkCache({
    maxBytes: options.cacheBytes ?? 64 * 1024 * 1024,
    chunkBytes,
    async load(sha256, start, end) {
      let out: GetObjectCommandOutput;
      try {
        out = await get(sha256, { start, end });
      } catch (err) {
        // Past the end of the blob: S3 answers 416 (InvalidRange); a read there is empty, as on a file.
        if ((err as DomainError).details?.status === 416) return Buffer.alloc(0);
        throw err;
      }
      const expected = Number(out.ContentLength ?? 0);
      const chunks: Buffer[] = [];
      for await (const c of exactBody(out, expected, keyOf(sha256))) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
  });

  async function stream(sha256: string, range?: ByteRange): Promise<Readable> {
    const out = await get(sha256, range);
    return exactBody(out, Number(out.ContentLength ?? 0), keyOf(sha256));
  }

  async function removeQuietly(Key: string): Promise<void> {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key })).catch(() => undefined);
  }

  return {
    async put(source, opts: PutOptions = {}): Promise<BlobDigests> {
      const tmpKey = `${tmpPrefix}${now().getTime()}-${randomBytes(8).toString('hex')}`;
      const sha256 = createHash('sha256');
      const md5 = createHash('md5');
      // What S3 reports as the ETag of a multipart object: MD5 of the parts' binary MD5s, "-", part count.
      const partMd5s: Buffer[] = [];
      let part = createHash('md5');
      let inPart = 0;
      let size = 0;
      const max = Math.min(opts.maxBytes ?? S3_MAX_BLOB_BYTES, S3_MAX_BLOB_BYTES);
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          if (size > max) {
            done(new DomainError('UPLOAD_TOO_LARGE', `upload exceeds the limit of ${max} bytes`));
            return;
          }
          sha256.update(chunk);
          md5.update(chunk);
          for (let offset = 0; offset < chunk.length;) {
            const take = Math.min(PART_BYTES - inPart, chunk.length - offset);
            part.update(chunk.subarray(offset, offset + take));
            inPart += take;
            offset += take;
            if (inPart === PART_BYTES) {
              partMd5s.push(part.digest());
              part = createHash('md5');
              inPart = 0;
            }
          }
          done(null, chunk);
        },
      });
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: tmpKey, Body: meter, ContentType: 'application/octet-stream' },
        partSize: PART_BYTES,
        queueSize: QUEUE,
      });
      const input = source instanceof Readable ? source : Readable.from(source);
      let uploaded = false;
      try {
        const feeding = pipeline(input, meter, { signal: opts.signal });
        const storing = upload.done();
        // Whichever fails first stops the other: a refused body aborts the multipart upload and vice versa.
        await Promise.all([
          feeding.catch(async (err: unknown) => {
            await upload.abort().catch(() => undefined);
            throw err;
          }),
          storing.catch((err: unknown) => {
            meter.destroy(err as Error);
            input.destroy();
            throw err;
          }),
        ]).catch(async (err: unknown) => {
          await Promise.allSettled([feeding, storing]);
          throw err;
        });
        uploaded = true;
        const digests = { sha256: sha256.digest('hex'), md5: md5.digest('hex'), size };
        verifyDigests(digests, opts);
        // Verify what S3 holds before it becomes visible under the content address.
        const head = await client
          .send(new HeadObjectCommand({ Bucket: bucket, Key: tmpKey }))
          .catch((err: unknown) => {
            throw s3Failure(err, 'check', `${bucket}/${tmpKey}`);
          });
        if (inPart > 0 || partMd5s.length === 0) partMd5s.push(part.digest());
        // A multipart object's ETag is the MD5 of its parts' MD5s and "-<parts>"; a single PUT's is the MD5.
        const etag = (head.ETag ?? '').replace(/"/g, '');
        const expectedEtag = etag.includes('-')
          ? `${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-${partMd5s.length}`
          : digests.md5;
        if (Number(head.ContentLength) !== size || etag !== expectedEtag) {
          throw new DomainError(
            'STORAGE_UNAVAILABLE',
            `object store kept ${head.ContentLength} bytes (ETag ${etag}) for an upload of ${size} bytes (${expectedEtag})`,
          );
        }
        await opts.beforePublish?.(digests);
        const Key = keyOf(digests.sha256);
        await client
          .send(
            new CopyObjectCommand({
              Bucket: bucket,
              Key,
              CopySource: `${bucket}/${tmpKey}`
                .split('/')
                .map((s) => encodeURIComponent(s))
                .join('/'),
              ContentType: 'application/octet-stream',
              MetadataDirective: 'REPLACE',
            }),
          )
          .catch((err: unknown) => {
            throw s3Failure(err, 'publish', `${bucket}/${Key}`);
          });
        await removeQuietly(tmpKey);
        return digests;
      } catch (err) {
        if (uploaded) await removeQuietly(tmpKey);
        if (err instanceof DomainError || opts.signal?.aborted) throw err;
        throw s3Failure(err, 'write', `${bucket}/${tmpKey}`);
      }
    },

    async createReadStream(sha256: string, range?: ByteRange) {
      // Small pieces (clients that download in ranges of a few KiB) come from the chunk cache.
      if (range && range.end - range.start + 1 <= chunkBytes) {
        return Readable.from([await cache.read(sha256, range.start, range.end - range.start + 1)]);
      }
      return stream(sha256, range);
    },

    async read(sha256, offset, length) {
      keyOf(sha256);
      if (length <= 4 * chunkBytes) return cache.read(sha256, offset, length);
      // A large read (the memory cache loading a whole image) is one GET, and does not flush the chunk cache.
      const chunks: Buffer[] = [];
      try {
        for await (const c of await stream(sha256, {
          start: offset,
          end: offset + length - 1,
        }))
          chunks.push(c as Buffer);
      } catch (err) {
        if ((err as DomainError).details?.status === 416) return Buffer.alloc(0);
        throw err;
      }
      return Buffer.concat(chunks);
    },

    async stat(sha256: string) {
      if (!SHA256.test(sha256)) return undefined;
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: keyOf(sha256) }));
        return { size: Number(head.ContentLength ?? 0) };
      } catch (err) {
        const failure = s3Failure(err, 'check', `${bucket}/${keyOf(sha256)}`, sha256);
        if (failure.code === 'BLOB_NOT_FOUND') return undefined;
        throw failure;
      }
    },

    async delete(sha256: string) {
      const Key = keyOf(sha256);
      cache.evict(sha256);
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key })).catch((err: unknown) => {
        throw s3Failure(err, 'delete', `${bucket}/${Key}`);
      });
    },

    /** Readiness: a small object written, read back and deleted (credentials, bucket, permissions). */
    async check() {
      const Key = `${tmpPrefix}.ready-${randomBytes(6).toString('hex')}`;
      try {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Buffer.from('ok') }));
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key }));
      } catch (err) {
        throw s3Failure(err, 'check', `${bucket}/${Key}`);
      } finally {
        await removeQuietly(Key);
      }
    },

    async list(): Promise<string[]> {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client
          .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: blobPrefix, ContinuationToken: token }))
          .catch((err: unknown) => {
            throw s3Failure(err, 'list', `${bucket}/${blobPrefix}`);
          });
        for (const o of page.Contents ?? []) {
          const name = o.Key?.slice(o.Key.lastIndexOf('/') + 1) ?? '';
          if (SHA256.test(name)) keys.push(name);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },

    /**
     * Removes temporary objects and multipart uploads older than `olderThanMs` (default: the store's setting):
     * the bucket is shared by every replica, and a younger one may belong to an upload still streaming.
     */
    async sweepIncomplete(olderThanMs = incompleteAfterMs): Promise<number> {
      const cutoff = now().getTime() - olderThanMs;
      let removed = 0;
      let token: string | undefined;
      do {
        const page = await client
          .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: tmpPrefix, ContinuationToken: token }))
          .catch((err: unknown) => {
            throw s3Failure(err, 'list', `${bucket}/${tmpPrefix}`);
          });
        for (const o of page.Contents ?? []) {
          if (!o.Key || (o.LastModified?.getTime() ?? 0) > cutoff) continue;
          await removeQuietly(o.Key);
          removed++;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      let keyMarker: string | undefined;
      let uploadMarker: string | undefined;
      do {
        const page = await client
          .send(
            new ListMultipartUploadsCommand({
              Bucket: bucket,
              Prefix: tmpPrefix,
              KeyMarker: keyMarker,
              UploadIdMarker: uploadMarker,
            }),
          )
          .catch((err: unknown) => {
            throw s3Failure(err, 'list', `${bucket}/${tmpPrefix} (multipart uploads)`);
          });
        for (const u of page.Uploads ?? []) {
          if (!u.Key || !u.UploadId || (u.Initiated?.getTime() ?? 0) > cutoff) continue;
          await client
            .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }))
            .then(() => removed++)
            .catch(() => undefined);
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        uploadMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
      } while (keyMarker);
      return removed;
    },

    async presignedUrl(sha256: string, { expiresInS, filename }: { expiresInS: number; filename?: string }) {
      const Key = keyOf(sha256);
      return getSignedUrl(
        client,
        new GetObjectCommand({
          Bucket: bucket,
          Key,
          ResponseContentDisposition: filename ? `attachment; filename="${filename}"` : undefined,
        }),
        { expiresIn: expiresInS },
      );
    },

    cachedBytes: () => cache.cachedBytes(),
  };
}
