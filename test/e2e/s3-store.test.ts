import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { rm } from 'node:fs/promises';
import { isDomainError } from '../../src/core/errors.js';
import { createS3BlobStore } from '../../src/storage/blobs/s3-blob-store.js';
import { createBucket, rgw, rgwClient, type Rgw } from '../support/rgw.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import {
  ADMIN_TOKEN,
  releaseForm,
  spawnServer,
  startTestServer,
  tempDir,
  type TestServer,
} from '../support/server.js';
import { Readable } from 'node:stream';
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { esp8266SketchHeaders } from '../support/esp-headers.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

async function createProduct(server: TestServer, name: string): Promise<void> {
  const res = await server.api('/api/v1/products', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  assert.equal(res.status, 201);
}

/** GET with a raw client; resolves with the bytes received and whether the body ended complete. */
function download(
  url: string,
  headers: Record<string, string>,
  onProgress?: (received: number) => void,
): Promise<{ status: number; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      let received = 0;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        received += c.length;
        onProgress?.(received);
      });
      const done = (complete: boolean) =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete });
      res.on('end', () => done(res.complete));
      res.on('aborted', () => done(false));
      res.on('error', () => done(false));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('S3 blob store against RGW: credentials, outages and recovery', () => {
  let s3: Rgw;
  let bucket: string;
  before(async () => {
    s3 = await rgw();
    bucket = await createBucket(s3, 'outage');
  });

  it('names refused credentials clearly: store, readiness, uploads', async () => {
    const client = rgwClient(s3, { accessKeyId: s3.accessKeyId, secretAccessKey: 'wrong-secret' });
    try {
      const store = createS3BlobStore({ client, bucket });
      await assert.rejects(store.put(Readable.from([randomBytes(100)])), (e) => {
        assert.ok(isDomainError(e, 'STORAGE_UNAVAILABLE'));
        assert.match((e as Error).message, /refused the credentials .*SignatureDoesNotMatch/);
        return true;
      });
      await assert.rejects(store.check(), /refused the credentials/);
    } finally {
      client.destroy();
    }

    // The real server, configured from flags and the standard AWS environment variables.
    const data = await tempDir();
    const server = await spawnServer(
      data,
      ['--blob-store', `s3://${bucket}/wrong`, '--s3-endpoint', s3.endpoint],
      {
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: 'wrong-secret',
        UPDRAFT_S3_FORCE_PATH_STYLE: 'true',
      },
    );
    try {
      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(((await ready.json()) as { message: string }).message, /refused the credentials/);
      await fetch(`${server.url}/api/v1/products`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'locked' }),
      });
      const upload = await fetch(`${server.url}/api/v1/products/locked/releases`, {
        method: 'POST',
        headers: auth,
        body: releaseForm('1.0.0', { 'firmware.bin': randomBytes(1000) }),
      });
      assert.equal(upload.status, 503);
      const body = (await upload.json()) as { code: string; message: string };
      assert.equal(body.code, 'STORAGE_UNAVAILABLE');
      assert.match(body.message, /AWS_ACCESS_KEY_ID/);
      assert.match(server.output(), /refused the credentials/, 'logged at start-up');
    } finally {
      await server.stop();
      await rm(data, { recursive: true, force: true });
    }
  });

  it('serves CoAP-sized blocks from the chunk cache: a few S3 requests per image, not one per block', async () => {
    const client = rgwClient(s3);
    let gets = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetObjectCommand') gets++;
        return next(args);
      },
      { step: 'initialize' },
    );
    try {
      const store = createS3BlobStore({ client, bucket, prefix: 'blocks/', chunkBytes: 256 * 1024 });
      const image = randomBytes(1024 * 1024 + 100);
      const { sha256: key } = await store.put(Readable.from([image]));
      const blocks: Buffer[] = [];
      for (let offset = 0; offset < image.length; offset += 512)
        blocks.push(await store.read(key, offset, 512));
      assert.equal(sha256(Buffer.concat(blocks)), sha256(image));
      assert.equal(blocks.length, 2049);
      assert.equal(gets, 5, '1 MiB + 100 bytes in 256 KiB chunks');
    } finally {
      client.destroy();
    }
  });

  it('sweeps an abandoned multipart upload once it is old enough, and leaves a young one alone', async () => {
    const client = rgwClient(s3);
    try {
      const store = createS3BlobStore({ client, bucket, prefix: 'abandoned/' });
      // What a replica killed in the middle of an upload leaves: an open multipart upload under tmp/, one part in.
      const Key = 'abandoned/tmp/1700000000000-deadbeefdeadbeef';
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }));
      await client.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key,
          UploadId,
          PartNumber: 1,
          Body: randomBytes(5 * 1024 * 1024),
        }),
      );
      const open = async () =>
        (await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'abandoned/' })))
          .Uploads ?? [];
      assert.equal((await open()).length, 1);
      assert.equal(await store.sweepIncomplete(60_000), 0, 'younger than the age: maybe still streaming');
      assert.equal((await open()).length, 1);
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal(await store.sweepIncomplete(1000), 1);
      assert.deepEqual(await open(), [], 'aborted');
    } finally {
      client.destroy();
    }
  });

  it('--s3-redirect: the API download answers 302 to a presigned URL that works without credentials', async () => {
    process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
    const server = await startTestServer({
      blobStore: `s3://${bucket}/redirect`,
      s3Endpoint: s3.endpoint,
      s3ForcePathStyle: true,
      s3Redirect: true,
      s3RedirectTtlS: 60,
    });
    try {
      await createProduct(server, 'redir');
      const image = randomBytes(300_000);
      image[0] = 0xe9; // an ESP image, as the ESP8266 path below expects
      const res = await server.api('/api/v1/products/redir/releases', {
        method: 'POST',
        body: releaseForm('1.0.0', { 'firmware.bin': image }, { publish: 'true' }),
      });
      assert.equal(res.status, 201);
      const path = '/api/v1/products/redir/releases/1.0.0/artifacts/firmware.bin';
      const redirect = await server.api(path, { redirect: 'manual' });
      assert.equal(redirect.status, 302);
      const location = redirect.headers.get('location') ?? '';
      assert.ok(location.startsWith(`${s3.endpoint}/${bucket}/redirect/sha256/`), location);
      assert.match(location, /X-Amz-Expires=60/);
      const direct = await fetch(location);
      assert.equal(direct.status, 200);
      assert.equal(sha256(Buffer.from(await direct.arrayBuffer())), sha256(image));
      assert.match(direct.headers.get('content-disposition') ?? '', /firmware\.bin/);
      // A tampered URL is refused by the store; HEAD stays with Updraft (a presigned GET refuses HEAD).
      const tampered = location.replace(
        /X-Amz-Signature=([0-9a-f])/,
        (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
      );
      assert.equal((await fetch(tampered)).status, 403);
      const head = await server.api(path, { method: 'HEAD', redirect: 'manual' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(image.length));
      // Device paths that do not follow redirects are streamed (ESP8266 httpUpdate).
      const esp = await fetch(`${server.url}/redir`, {
        redirect: 'manual',
        headers: esp8266SketchHeaders('18:FE:AA:AA:AA:02', '0.1.0'),
      });
      assert.equal(esp.status, 200);
      assert.equal(sha256(Buffer.from(await esp.arrayBuffer())), sha256(image));
    } finally {
      await server.close();
    }
  });

  describe('through a relay that can cut the connection to the store', () => {
    let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
    let server: TestServer;
    before(async () => {
      proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(s3.endpoint).port) });
      process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
      server = await startTestServer({
        blobStore: `s3://${bucket}/relayed`,
        s3Endpoint: proxy.url,
        s3ForcePathStyle: true,
        // Streamed from the store, not from the memory cache.
        blobCacheBytes: 0,
      });
      await createProduct(server, 'cut');
    });
    after(async () => {
      await server.close();
      await proxy.close();
    });

    it('store gone mid-upload: a clear 503, nothing published; back again: the upload works', async () => {
      const image = randomBytes(24 * 1024 * 1024);
      const cutAfter = proxy.relayed() + 10 * 1024 * 1024;
      const cutting = (async () => {
        while (proxy.relayed() < cutAfter) await new Promise((r) => setTimeout(r, 5));
        await proxy.cut();
      })();
      const res = await server.api('/api/v1/products/cut/releases', {
        method: 'POST',
        body: releaseForm('1.0.0', { 'firmware.bin': image }, { publish: 'true' }),
      });
      await cutting;
      assert.equal(res.status, 503);
      const body = (await res.json()) as { code: string; message: string };
      assert.equal(body.code, 'STORAGE_UNAVAILABLE');
      assert.match(body.message, /object store unreachable/);
      const list = (await (await server.api('/api/v1/products/cut/releases')).json()) as { items: unknown[] };
      assert.deepEqual(list.items, [], 'nothing published');
      assert.equal((await server.api('/readyz')).status, 503);

      await proxy.restore();
      assert.equal((await server.api('/readyz')).status, 200);
      const again = await server.api('/api/v1/products/cut/releases', {
        method: 'POST',
        body: releaseForm('1.0.0', { 'firmware.bin': image }, { publish: 'true' }),
      });
      assert.equal(again.status, 201, await again.text());
      const back = await server.api('/api/v1/products/cut/releases/1.0.0/artifacts/firmware.bin');
      assert.equal(sha256(Buffer.from(await back.arrayBuffer())), sha256(image));
      // The temporary object of the cut upload is swept once it is old enough; its multipart upload too.
      const client = rgwClient(s3);
      try {
        const store = createS3BlobStore({ client, bucket, prefix: 'relayed/' });
        // The SDK may have aborted its multipart upload itself once the store was back, or left it (and its
        // temporary key) behind: after a sweep, nothing of the cut upload may remain either way.
        await store.sweepIncomplete(0);
        const uploads = await client.send(
          new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'relayed/' }),
        );
        assert.deepEqual(uploads.Uploads ?? [], [], 'no abandoned multipart upload is left');
        const temporary = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: 'relayed/tmp/' }),
        );
        assert.equal(temporary.KeyCount ?? 0, 0, 'no temporary object is left');
        assert.deepEqual(await store.list(), [sha256(image)]);
      } finally {
        client.destroy();
      }
    });

    it('store gone mid-download: the device gets an error, the server stays up, a Range retry completes', async () => {
      const image = randomBytes(24 * 1024 * 1024);
      const published = await server.api('/api/v1/products/cut/releases', {
        method: 'POST',
        body: releaseForm('2.0.0', { 'firmware.bin': image }, { publish: 'true' }),
      });
      assert.equal(published.status, 201);
      const url = `${server.url}/api/v1/products/cut/releases/2.0.0/artifacts/firmware.bin`;
      let cut: Promise<void> | undefined;
      const first = await download(url, auth, (received) => {
        if (received > 4 * 1024 * 1024) cut ??= proxy.cut();
      });
      await cut;
      assert.equal(first.status, 200);
      assert.equal(first.complete, false, 'the device sees a cut-short body, not a complete one');
      assert.ok(first.body.length < image.length);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'the server stays up');

      await proxy.restore();
      const rest = await download(url, { ...auth, Range: `bytes=${first.body.length}-` });
      assert.equal(rest.status, 206);
      assert.equal(rest.complete, true);
      assert.equal(sha256(Buffer.concat([first.body, rest.body])), sha256(image), 'byte-identical');
    });
  });
});
