import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adaptiveReadStream, MIN_CHUNK } from '../../src/storage/blobs/adaptive-read-stream.js';
import type { RecyclingReadable } from '../../src/core/blobs/blob-store.js';
import { ADMIN_TOKEN, publishRelease, startTestServer, type TestServer } from '../support/server.js';

const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Chunk recycling (issue 13, defect 7): a slow download reads into the same few buffers instead of one new buffer
 * per chunk. Reuse must never change a byte: a buffer is only read into again after its consumer handed it back.
 */
describe('adaptive read stream: recycled chunks', () => {
  let dir: string;
  let file: string;
  const image = randomBytes(256 * 1024 + 123);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'updraft-adaptive-'));
    file = join(dir, 'image.bin');
    await writeFile(file, image);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /**
   * Reads the whole image slower than the stream's "fast consumer" threshold (so chunks stay at MIN_CHUNK),
   * copying each chunk before `handBack` may give it to the stream again.
   */
  async function readSlowly(handBack: (stream: RecyclingReadable, chunk: Buffer) => void) {
    const stream = adaptiveReadStream(await open(file), 0, image.length - 1);
    const copies: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      buffers.add(chunk.buffer);
      copies.push(Buffer.from(chunk));
      await pause(6);
      handBack(stream, chunk);
    }
    assert.equal(sha256(Buffer.concat(copies)), sha256(image));
    return { chunks: copies.length, buffers: buffers.size };
  }

  it('a slow consumer that hands chunks back gets every byte from a handful of buffers', async () => {
    const { chunks, buffers } = await readSlowly((stream, chunk) => stream.recycle(chunk));
    assert.ok(chunks > 60, `${chunks} chunks: the consumer was slow enough to keep them small`);
    // Reused, not one per chunk: a few larger first chunks (before the consumer looks slow) and the read-ahead of
    // the async iterator (one more on Node 24) are new buffers; the small ones go round (9 for 65 seen).
    assert.ok(buffers < chunks / 4, `${buffers} distinct buffers for ${chunks} chunks`);
  });

  it('without recycling every chunk is a new buffer, and views or foreign buffers are never taken', async () => {
    const { chunks, buffers } = await readSlowly((stream, chunk) => {
      // Handed back: a view into a chunk, and a buffer the stream did not allocate. Neither may be reused.
      stream.recycle(chunk.subarray(0, MIN_CHUNK / 2));
      stream.recycle(Buffer.alloc(MIN_CHUNK));
    });
    assert.equal(buffers, chunks);
  });
});

/** The same over HTTP: an uncached image streamed to a slow device arrives byte-identical. */
describe('streamed download with recycled chunks, over HTTP', () => {
  let server: TestServer;
  const image = randomBytes(4 * MiB + 7);

  before(async () => {
    server = await startTestServer({ blobCacheBytes: 0 });
    await publishRelease(server, 'streamed', '1.0.0', { 'firmware.bin': image });
  });
  after(() => server.close());

  it('a slow reader gets exactly the published image', async () => {
    const body = await new Promise<Buffer>((resolve, reject) => {
      const req = request(
        {
          port: server.httpPort,
          host: '127.0.0.1',
          path: '/api/v1/products/streamed/releases/1.0.0/artifacts/firmware.bin',
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
        },
        (res) => {
          assert.equal(res.statusCode, 200);
          const parts: Buffer[] = [];
          res.on('data', (chunk: Buffer) => {
            parts.push(chunk);
            // A slow device: the server's writes back up, so its sends go through the recycling pump's pause,
            // drain and resume, with chunks of every size from MIN_CHUNK up.
            res.pause();
            setTimeout(() => res.resume(), 5);
          });
          res.on('end', () => resolve(Buffer.concat(parts)));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(body.length, image.length);
    assert.equal(sha256(body), sha256(image));
  });
});
