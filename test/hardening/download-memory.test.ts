import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LARGE_BUDGET, MIN_CHUNK } from '../../src/storage/blobs/adaptive-read-stream.js';
import { ADMIN_TOKEN, publishRelease, startTestServer, type TestServer } from '../support/server.js';

const MiB = 1024 * 1024;
const CONNECTIONS = 40;
/**
 * What the design allows (src/storage/blobs/adaptive-read-stream.ts): the process-wide budget for chunks above
 * the minimum, twice (it is counted on each stream's last chunk; the one before can still be on its way into
 * the socket), plus per stalled download its small chunk twice and the 64 KiB this client side reads before it
 * pauses. At 1 MiB per read, 40 stalled downloads held 82 MiB.
 */
const BOUND = 2 * LARGE_BUDGET + CONNECTIONS * (2 * MIN_CHUNK + 64 * 1024);

// A collection before each measurement, so garbage from the upload is not counted.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const settle = async () => {
  gc();
  await new Promise((r) => setTimeout(r, 100));
  gc();
};

/** Opens a download and stops reading after the first bytes: the server's writes back up (a slow device). */
function stalledDownload(port: number, path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n\r\n`),
    );
    socket.once('data', () => {
      socket.pause();
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

describe('hardening: read-ahead per streamed download is bounded (defect 7)', () => {
  let server: TestServer;

  before(async () => {
    // No memory cache: every download is streamed from disk, as an image above the cache limit is.
    server = await startTestServer({ blobCacheBytes: 0 });
    await publishRelease(server, 'big', '1.0.0', { 'firmware.bin': randomBytes(16 * MiB) });
  });
  after(() => server.close());

  it(`${CONNECTIONS} stalled downloads hold under ${(BOUND / MiB).toFixed(0)} MiB in all, released on abort`, async () => {
    const path = '/api/v1/products/big/releases/1.0.0/artifacts/firmware.bin';
    const round = async () => {
      await settle();
      const before = process.memoryUsage().arrayBuffers;
      const sockets: Socket[] = [];
      for (let i = 0; i < CONNECTIONS; i++) sockets.push(await stalledDownload(server.httpPort, path));
      // Let every stream fill whatever read-ahead it is allowed.
      await new Promise((r) => setTimeout(r, 500));
      // What flowed into the kernel's socket buffers is garbage now: count only what is still referenced.
      await settle();
      const held = process.memoryUsage().arrayBuffers - before;
      for (const s of sockets) s.destroy();
      await new Promise((r) => setTimeout(r, 300));
      await settle();
      return { held, afterAbort: process.memoryUsage().arrayBuffers - before };
    };
    await round(); // warm-up: first-use allocations (TLS-free sockets, parser, pools) are not per download
    const { held, afterAbort } = await round();
    const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    assert.ok(held < BOUND, `${mib(held)} held by ${CONNECTIONS} stalled downloads`);
    // Aborted: the server's streams are destroyed and their buffers unreferenced. What remains (~2.5 MiB either
    // way) is the client sockets' last 64 KiB read each, not the server's read-ahead (40 MiB at 1 MiB chunks).
    assert.ok(afterAbort < 4 * MiB, `${mib(afterAbort)} still held after abort`);
  });
});
