import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { DomainError } from '../../core/errors.js';
import type { BlobDigests, BlobStore, ByteRange, PutOptions } from '../../core/blobs/blob-store.js';
import { adaptiveReadStream } from './adaptive-read-stream.js';
import { verifyDigests } from './verify-digests.js';

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Content-addressed blobs on the local filesystem: `<root>/sha256/ab/abcdef...`. A put streams into
 * `<root>/tmp/` while hashing, fsyncs, checks size and digests, then renames into place (atomic on one
 * filesystem) and fsyncs the directory, so a kill at any moment leaves either no blob or a complete one.
 * The key is checked against a strict pattern before it touches a path: no request can name a file.
 */
export function createFsBlobStore(root: string): BlobStore {
  const tmpDir = join(root, 'tmp');
  const blobDir = join(root, 'sha256');

  function pathOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new DomainError('BLOB_NOT_FOUND', 'malformed blob key');
    return join(blobDir, sha256.slice(0, 2), sha256);
  }

  async function fsyncDir(dir: string): Promise<void> {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  return {
    async put(source, options: PutOptions = {}): Promise<BlobDigests> {
      await mkdir(tmpDir, { recursive: true });
      const tmp = join(tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}.part`);
      const sha256 = createHash('sha256');
      const md5 = createHash('md5');
      let size = 0;
      const max = options.maxBytes ?? Number.POSITIVE_INFINITY;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          if (size > max) {
            done(new DomainError('UPLOAD_TOO_LARGE', `upload exceeds the limit of ${max} bytes`));
            return;
          }
          sha256.update(chunk);
          md5.update(chunk);
          done(null, chunk);
        },
      });
      const out = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
      try {
        const input = source instanceof Readable ? source : Readable.from(source);
        await pipeline(input, meter, out, { signal: options.signal });
        const handle = await open(tmp, 'r+');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
        const digests = { sha256: sha256.digest('hex'), md5: md5.digest('hex'), size };
        verifyDigests(digests, options);
        await options.beforePublish?.(digests);
        const target = pathOf(digests.sha256);
        await mkdir(join(blobDir, digests.sha256.slice(0, 2)), { recursive: true });
        await rename(tmp, target);
        await fsyncDir(join(blobDir, digests.sha256.slice(0, 2)));
        return digests;
      } catch (err) {
        await rm(tmp, { force: true });
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOSPC' || code === 'EDQUOT') {
          throw new DomainError('STORAGE_FULL', 'the blob store has no room left for this upload');
        }
        throw err;
      }
    },

    async createReadStream(sha256: string, range?: ByteRange) {
      const path = pathOf(sha256);
      const handle = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') throw new DomainError('BLOB_NOT_FOUND', `blob ${sha256} is missing`);
        throw err;
      });
      // Chunks follow the consumer: large for a fast client, small for a stalled one (adaptive-read-stream.ts).
      return adaptiveReadStream(handle, range?.start ?? 0, range?.end ?? Number.MAX_SAFE_INTEGER);
    },

    async read(sha256: string, offset: number, length: number): Promise<Buffer> {
      const handle = await open(pathOf(sha256), 'r').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') throw new DomainError('BLOB_NOT_FOUND', `blob ${sha256} is missing`);
        throw err;
      });
      try {
        const buffer = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },

    async stat(sha256: string) {
      try {
        const s = await stat(pathOf(sha256));
        return { size: s.size };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof DomainError) return undefined;
        throw err;
      }
    },

    async delete(sha256: string) {
      await unlink(pathOf(sha256)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    },

    async check() {
      await mkdir(tmpDir, { recursive: true });
      const probe = join(tmpDir, `.ready-${randomBytes(4).toString('hex')}`);
      const handle = await open(probe, 'wx');
      await handle.close();
      await unlink(probe);
    },

    relativePath: (sha256: string) => join('sha256', sha256.slice(0, 2), sha256),

    /**
     * Removes temporary files left by a crash mid-upload: all of them at start-up, before serving; only those
     * untouched for `olderThanMs` when other processes may be uploading into the same folder.
     */
    async sweepIncomplete(olderThanMs?: number): Promise<number> {
      const names = await readdir(tmpDir).catch(() => [] as string[]);
      const cutoff = Date.now() - (olderThanMs ?? 0);
      let removed = 0;
      await Promise.all(
        names.map(async (n) => {
          const path = join(tmpDir, n);
          if (olderThanMs !== undefined) {
            const s = await stat(path).catch(() => undefined);
            if (!s || s.mtimeMs > cutoff) return;
          }
          await rm(path, { force: true });
          removed++;
        }),
      );
      return removed;
    },

    async list(): Promise<string[]> {
      const shards = await readdir(blobDir).catch(() => [] as string[]);
      const nested = await Promise.all(
        shards.map((s) => readdir(join(blobDir, s)).catch(() => [] as string[])),
      );
      return nested.flat().filter((n) => SHA256.test(n));
    },
  };
}
