import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request, type ClientRequest } from 'node:http';
import { stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { DeleteObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  ADMIN_TOKEN,
  collectGarbage,
  releaseForm,
  startTestServer,
  type TestServer,
} from '../support/server.js';
import { createBucket, rgw, rgwClient } from '../support/rgw.js';
import { coapClient } from '../coap/helpers.js';
import { esp8266SketchHeaders } from '../support/esp-headers.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** How a test reaches behind the server into its blob store. */
interface Setup {
  server: TestServer;
  exists(sha: string): Promise<boolean>;
  /** Removes a blob behind the server's back (an operator's mistake, a bug elsewhere). */
  remove(sha: string): Promise<void>;
  close(): Promise<void>;
}

async function until(what: string, ok: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A release upload streamed by hand: the first file whole, then the start of a second one, then it waits. The
 * server has stored (and holds) the first file's blob while the request is still open.
 */
function startSlowUpload(server: TestServer, product: string, version: string, first: Buffer) {
  const boundary = 'xxSLOWxx';
  const part = (name: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}"\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n';
  const second = randomBytes(300_000);
  const req: ClientRequest = request(`${server.url}/api/v1/products/${product}/releases`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${ADMIN_TOKEN}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
    },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
  // Settled by the test when it matters; a test failing earlier must not leave an unhandled rejection.
  response.catch(() => undefined);
  req.write(
    `--${boundary}\r\nContent-Disposition: form-data; name="version"\r\n\r\n${version}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="publish"\r\n\r\ntrue\r\n`,
  );
  req.write(part('a.bin'));
  req.write(first);
  req.write(`\r\n${part('b.bin')}`);
  req.write(second.subarray(0, 1000));
  return {
    response,
    finish() {
      req.end(Buffer.concat([second.subarray(1000), Buffer.from(`\r\n--${boundary}--\r\n`)]));
    },
  };
}

async function createProduct(server: TestServer, name: string): Promise<void> {
  const res = await server.api('/api/v1/products', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  assert.equal(res.status, 201);
}

function scenarios(setup: () => Promise<Setup>): void {
  it('keeps a blob an upload in progress stored, whatever else fails or is deleted meanwhile', async () => {
    const { server, exists, close } = await setup();
    try {
      await createProduct(server, 'gc');
      const x = randomBytes(200_000);
      const a = startSlowUpload(server, 'gc', '1.0.0', x);
      // Wait until A has stored X and is streaming its next file.
      await until('upload A to store X', () => exists(sha256(x)));
      await new Promise((r) => setTimeout(r, 200));

      // Meanwhile a release with X is created and deleted...
      const other = await server.api('/api/v1/products/gc/releases', {
        method: 'POST',
        body: releaseForm('0.9.0', { 'a.bin': x }),
      });
      assert.equal(other.status, 201);
      assert.equal(
        (await server.api('/api/v1/products/gc/releases/0.9.0', { method: 'DELETE' })).status,
        204,
      );
      // ...and upload B with the same file X fails on its second file.
      // Upload B with the same file X fails on its second file.
      const b = await server.api('/api/v1/products/gc/releases', {
        method: 'POST',
        body: releaseForm(
          '2.0.0',
          { 'a.bin': x, 'c.bin': randomBytes(100) },
          { 'sha256.c.bin': '0'.repeat(64) },
        ),
      });
      assert.equal(b.status, 422);
      // Garbage collection past its grace period, while A is still open: X is held.
      await collectGarbage(server);
      assert.equal(await exists(sha256(x)), true, 'the blob of the upload in progress is kept');

      a.finish();
      const done = await a.response;
      assert.equal(done.status, 201, done.body);
      const download = await server.api('/api/v1/products/gc/releases/1.0.0/artifacts/a.bin');
      assert.equal(download.status, 200);
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), x);

      // Once the last release using it is gone, the collector deletes X after its grace period, not before.
      assert.equal(
        (await server.api('/api/v1/products/gc/releases/1.0.0', { method: 'DELETE' })).status,
        204,
      );
      const now = Date.now();
      await server.runBlobGc(new Date(now));
      assert.equal(await exists(sha256(x)), true, 'an orphan waits out the grace period');
      await server.runBlobGc(new Date(now + server.config.blobGcGraceMs + 1));
      assert.equal(await exists(sha256(x)), false, 'then it is deleted');
    } finally {
      await close();
    }
  });

  it('answers a missing blob with a clear error on every path, and refuses to commit a release without it', async () => {
    const { server, remove, close } = await setup();
    try {
      await createProduct(server, 'lost');
      const image = randomBytes(50_000);
      image[0] = 0xe9;
      const res = await server.api('/api/v1/products/lost/releases', {
        method: 'POST',
        body: releaseForm('1.0.0', { 'firmware.bin': image }, { publish: 'true' }),
      });
      assert.equal(res.status, 201);
      await remove(sha256(image));

      const api = await server.api('/api/v1/products/lost/releases/1.0.0/artifacts/firmware.bin', {
        signal: AbortSignal.timeout(5000),
      });
      assert.equal(api.status, 500);
      assert.equal(((await api.json()) as { code: string }).code, 'BLOB_NOT_FOUND');

      // An ESP8266 asking for an update to the release whose image is gone.
      const device = await fetch(`${server.url}/lost`, {
        headers: esp8266SketchHeaders('18:FE:AA:AA:AA:01', '0.1.0'),
        signal: AbortSignal.timeout(5000),
      });
      assert.equal(device.status, 500);
      // A CoAP device asking for the same image block-wise.
      const coap = await coapClient([
        '-m',
        'get',
        '-B',
        '5',
        `coap://127.0.0.1:${server.coap?.port}/fw/lost/latest/firmware.bin`,
      ]);
      assert.match(coap.stdout + coap.stderr, /5\.00/);
      assert.equal((await server.api('/healthz')).status, 200, 'the server stays up');
    } finally {
      await close();
    }
  });
}

describe('blob garbage collection: filesystem store, SQLite', () => {
  scenarios(async () => {
    const server = await startTestServer({
      coapPort: 0,
      blobCacheBytes: 0,
    });
    const path = (sha: string) => join(server.dataDir, 'blobs', 'sha256', sha.slice(0, 2), sha);
    return {
      server,
      exists: async (sha) => (await stat(path(sha)).catch(() => undefined)) !== undefined,
      remove: (sha) => unlink(path(sha)),
      close: () => server.close(),
    };
  });
});

describe('blob garbage collection: S3 store (RGW), PostgreSQL', () => {
  const clients: S3Client[] = [];
  after(() => clients.forEach((c) => c.destroy()));
  scenarios(async () => {
    const s3 = await rgw();
    const bucket = await createBucket(s3, 'gc');
    const client = rgwClient(s3);
    clients.push(client);
    const base = process.env.UPDRAFT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const schema = `updraft_gc_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
    const server = await startTestServer({
      databaseUrl: `${base}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      coapPort: 0,
      blobStore: `s3://${bucket}/updraft`,
      s3Endpoint: s3.endpoint,
      s3ForcePathStyle: true,
      // The blob is deleted behind the server's back below: no cache may still hold it (the ESP-IDF digest
      // read at publish would have put it in the chunk cache, which serves CoAP blocks).
      blobCacheBytes: 0,
      s3CacheBytes: 0,
    });
    const key = (sha: string) => `updraft/sha256/${sha.slice(0, 2)}/${sha}`;
    return {
      server,
      exists: async (sha) =>
        client.send(new HeadObjectCommand({ Bucket: bucket, Key: key(sha) })).then(
          () => true,
          () => false,
        ),
      remove: async (sha) => {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key(sha) }));
      },
      close: () => server.close(),
    };
  });
});
