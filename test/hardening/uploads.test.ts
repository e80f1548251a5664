import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { rawRequest } from '../support/raw-http.js';
import {
  ADMIN_TOKEN,
  collectGarbage,
  releaseForm,
  startTestServer,
  type TestServer,
} from '../support/server.js';

const json = { 'content-type': 'application/json' };

async function tmpParts(dataDir: string): Promise<string[]> {
  return (await readdir(join(dataDir, 'blobs', 'tmp')).catch(() => [] as string[])).filter((n) =>
    n.endsWith('.part'),
  );
}

async function blobCount(dataDir: string): Promise<number> {
  const shards = await readdir(join(dataDir, 'blobs', 'sha256')).catch(() => [] as string[]);
  let n = 0;
  for (const s of shards) n += (await readdir(join(dataDir, 'blobs', 'sha256', s))).length;
  return n;
}

const openFds = async () => (await readdir('/proc/self/fd')).length;

/** A multipart body whose last part never sees its closing boundary (defect 6). */
function unterminated(path: string, auth: boolean): string {
  const b = 'xBOUNDARYx';
  const body =
    `--${b}\r\nContent-Disposition: form-data; name="version"\r\n\r\n9.9.9\r\n` +
    `--${b}\r\nContent-Disposition: form-data; name="publish_id"\r\n\r\nhang\r\n` +
    `--${b}\r\nContent-Disposition: form-data; name="firmware.bin"; filename="f"\r\n` +
    `Content-Type: application/octet-stream\r\n\r\n${'A'.repeat(4000)}`;
  return (
    `POST ${path} HTTP/1.1\r\nHost: x\r\n` +
    (auth ? `Authorization: Bearer ${ADMIN_TOKEN}\r\n` : '') +
    `Content-Type: multipart/form-data; boundary=${b}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

describe('hardening: uploads', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ maxUploadBytes: 1_000_000, bodyIdleTimeoutMs: 1000 });
    const created = await server.api('/api/v1/products', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'late' }),
    });
    assert.equal(created.status, 201);
  });
  after(() => server.close());

  it('verifies a sha256 or md5 that arrives after its file and keeps nothing on a mismatch (defect 4)', async () => {
    const image = randomBytes(3000);
    const blobsBefore = await blobCount(server.dataDir);
    for (const kind of ['sha256', 'md5']) {
      const form = new FormData();
      form.set('version', kind === 'sha256' ? '1.0.1' : '1.0.2');
      form.set('firmware.bin', new Blob([image]), 'firmware.bin');
      form.set(`${kind}.firmware.bin`, '0'.repeat(kind === 'sha256' ? 64 : 32));
      const res = await server.api('/api/v1/products/late/releases', { method: 'POST', body: form });
      assert.equal(res.status, 422, kind);
      assert.equal(((await res.json()) as { code: string }).code, 'DIGEST_MISMATCH');
    }
    const list = (await (await server.api('/api/v1/products/late/releases')).json()) as { items: unknown[] };
    assert.equal(list.items.length, 0);
    // Failed uploads leave their blobs to the collector (docs/storage.md): after its grace period, none is left.
    await collectGarbage(server);
    assert.equal(await blobCount(server.dataDir), blobsBefore);
    // A correct late digest is accepted.
    const { createHash } = await import('node:crypto');
    const form = new FormData();
    form.set('version', '1.0.3');
    form.set('firmware.bin', new Blob([image]), 'firmware.bin');
    form.set('sha256.firmware.bin', createHash('sha256').update(image).digest('hex'));
    const ok = await server.api('/api/v1/products/late/releases', { method: 'POST', body: form });
    assert.equal(ok.status, 201, await ok.clone().text());
  });

  it('answers 400 to multipart/form-data without a boundary, on the API and on /publish (defects 6, 11)', async () => {
    for (const path of ['/api/v1/products/late/releases', '/publish']) {
      const res = await server.api(path, {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data' },
        body: 'version=1',
      });
      assert.equal(res.status, 400, path);
      assert.equal(((await res.json()) as { code: string }).code, 'INVALID_INPUT');
    }
  });

  it('times out a multipart body without its closing boundary and keeps no fd or tmp part (defect 6)', async () => {
    const fdsBefore = await openFds();
    for (const path of ['/api/v1/products/late/releases', '/publish']) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => rawRequest(server.httpPort, unterminated(path, true))),
      );
      for (const answer of answers) {
        assert.ok(answer.status >= 400 && answer.status < 500, `${path}: ${answer.statusLine}`);
      }
    }
    // Give the close handlers a moment, then nothing may be left.
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await tmpParts(server.dataDir), []);
    assert.ok((await openFds()) <= fdsBefore + 3, `fds ${fdsBefore} → ${await openFds()}`);
  });

  it('times out a request body that stops arriving (defect 14)', async () => {
    const { connect } = await import('node:net');
    const socket = connect({ port: server.httpPort, host: '127.0.0.1' });
    const started = Date.now();
    socket.write(
      `POST /api/v1/products HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":`,
    );
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 10_000, `closed after ${elapsed} ms`);
    const text = Buffer.concat(chunks).toString();
    assert.match(text, /^HTTP\/1\.1 408/);
  });

  it('serves API downloads as application/octet-stream whatever the uploader sent (defect 14)', async () => {
    const form = releaseForm('2.0.0', {});
    form.set(
      'firmware.bin',
      new Blob([Buffer.from('<script>alert(1)</script>')], { type: 'text/html' }),
      'x',
    );
    const res = await server.api('/api/v1/products/late/releases', { method: 'POST', body: form });
    assert.equal(res.status, 201, await res.clone().text());
    const download = await server.api('/api/v1/products/late/releases/2.0.0/artifacts/firmware.bin');
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-type'), 'application/octet-stream');
    assert.equal(download.headers.get('x-content-type-options'), 'nosniff');
    await download.arrayBuffer();
  });

  it('sends CSP and X-Frame-Options with the dashboard (defect 14)', async () => {
    const res = await fetch(`${server.url}/`);
    await res.arrayBuffer();
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
  });
});
