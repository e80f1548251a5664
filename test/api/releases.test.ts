import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { collectGarbage, releaseForm, startTestServer, type TestServer } from '../support/server.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const json = { 'content-type': 'application/json' };

async function blobCount(dataDir: string): Promise<number> {
  const shards = await readdir(join(dataDir, 'blobs', 'sha256')).catch(() => []);
  let n = 0;
  for (const s of shards) n += (await readdir(join(dataDir, 'blobs', 'sha256', s))).length;
  return n;
}

describe('management API: products and releases', () => {
  let server: TestServer;
  const image = randomBytes(200_000);
  const spiffs = randomBytes(5000);

  before(async () => {
    server = await startTestServer({ maxUploadBytes: 1_000_000 });
  });
  after(() => server.close());

  it('creates a product and rejects a duplicate or a bad name', async () => {
    const ok = await server.api('/api/v1/products', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'sensor', deviceFamily: 'esp8266' }),
    });
    assert.equal(ok.status, 201);
    const dup = await server.api('/api/v1/products', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'sensor' }),
    });
    assert.equal(dup.status, 409);
    assert.equal(((await dup.json()) as { code: string }).code, 'PRODUCT_EXISTS');
    for (const name of ['../etc', 'a/b', '', 'x'.repeat(200), '..']) {
      const bad = await server.api('/api/v1/products', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ name }),
      });
      assert.equal(bad.status, 400, name);
      assert.equal(((await bad.json()) as { code: string }).code, 'INVALID_NAME');
    }
    const list = (await (await server.api('/api/v1/products')).json()) as { items: { name: string }[] };
    assert.deepEqual(
      list.items.map((p) => p.name),
      ['sensor'],
    );
  });

  it('uploads a release with two files, normalising 1.2 to 1.2.0, and serves both with digests', async () => {
    const res = await server.api('/api/v1/products/sensor/releases', {
      method: 'POST',
      body: releaseForm(
        '1.2',
        { 'firmware.bin': image, spiffs },
        { notes: 'first', [`sha256.firmware.bin`]: sha256(image) },
      ),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const release = (await res.json()) as {
      version: string;
      state: string;
      artifacts: { name: string; size: number; sha256: string; md5: string }[];
    };
    assert.equal(release.version, '1.2.0');
    assert.equal(release.state, 'draft');
    assert.deepEqual(
      release.artifacts.map((a) => [a.name, a.size, a.sha256]),
      [
        ['firmware.bin', image.length, sha256(image)],
        ['spiffs', spiffs.length, sha256(spiffs)],
      ],
    );
    const download = await server.api('/api/v1/products/sensor/releases/1.2.0/artifacts/firmware.bin');
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-length'), String(image.length));
    assert.equal(download.headers.get('etag'), `"${sha256(image)}"`);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), image);
    const ranged = await server.api('/api/v1/products/sensor/releases/1.2.0/artifacts/firmware.bin', {
      headers: { Range: 'bytes=100-199' },
    });
    assert.equal(ranged.status, 206);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), image.subarray(100, 200));
    const beyond = await server.api('/api/v1/products/sensor/releases/1.2.0/artifacts/firmware.bin', {
      headers: { Range: `bytes=${image.length}-` },
    });
    assert.equal(beyond.status, 416);
  });

  it('publishes, revokes and lists by state', async () => {
    assert.equal(
      (await server.api('/api/v1/products/sensor/releases/1.2.0/publish', { method: 'POST' })).status,
      200,
    );
    let published = (await (await server.api('/api/v1/products/sensor/releases?state=published')).json()) as {
      items: unknown[];
    };
    assert.equal(published.items.length, 1);
    const revoked = await server.api('/api/v1/products/sensor/releases/1.2.0/revoke', { method: 'POST' });
    assert.equal(((await revoked.json()) as { state: string }).state, 'revoked');
    published = (await (await server.api('/api/v1/products/sensor/releases?state=published')).json()) as {
      items: unknown[];
    };
    assert.equal(published.items.length, 0);
  });

  it('refuses bad input with a clear code and changes nothing', async () => {
    await collectGarbage(server);
    const before = await blobCount(server.dataDir);
    const cases: [string, FormData, number, string][] = [
      ['bad version', releaseForm('1.x y', { 'firmware.bin': image }), 400, 'INVALID_VERSION'],
      ['duplicate version', releaseForm('1.2.0', { 'firmware.bin': randomBytes(10) }), 409, 'VERSION_EXISTS'],
      [
        'traversal in artifact name',
        releaseForm('2.0.0', { '../evil': randomBytes(10) }),
        400,
        'INVALID_NAME',
      ],
      [
        'digest mismatch',
        releaseForm('2.0.0', { 'firmware.bin': randomBytes(100) }, { 'sha256.firmware.bin': '0'.repeat(64) }),
        422,
        'DIGEST_MISMATCH',
      ],
      [
        'too large',
        releaseForm('2.0.0', { 'firmware.bin': randomBytes(1_200_000) }),
        413,
        'UPLOAD_TOO_LARGE',
      ],
      ['no file', releaseForm('2.0.0', {}), 400, 'ARTIFACT_REQUIRED'],
    ];
    for (const [what, form, status, code] of cases) {
      const res = await server.api('/api/v1/products/sensor/releases', { method: 'POST', body: form });
      assert.equal(res.status, status, what);
      const body = (await res.json()) as { code: string; message: string };
      assert.equal(body.code, code, what);
      assert.ok(body.message.length > 0);
    }
    const unknown = await server.api('/api/v1/products/nope/releases', {
      method: 'POST',
      body: releaseForm('1.0.0', { a: image }),
    });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { code: string }).code, 'PRODUCT_NOT_FOUND');
    const list = (await (await server.api('/api/v1/products/sensor/releases')).json()) as {
      items: { version: string }[];
    };
    assert.deepEqual(
      list.items.map((r) => r.version),
      ['1.2.0'],
    );
    await collectGarbage(server);
    assert.equal(await blobCount(server.dataDir), before);
  });

  it('requires the admin token', async () => {
    for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: 'Basic abc' }] as Record<
      string,
      string
    >[]) {
      const res = await fetch(`${server.url}/api/v1/products`, { headers });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { code: string }).code, 'UNAUTHORIZED');
    }
    const doc = await fetch(`${server.url}/api/v1/openapi.json`);
    assert.equal(doc.status, 200);
  });

  it('deletes a release and its blobs', async () => {
    assert.equal(
      (await server.api('/api/v1/products/sensor/releases/1.2.0', { method: 'DELETE' })).status,
      204,
    );
    assert.equal((await server.api('/api/v1/products/sensor/releases/1.2.0')).status, 404);
    await collectGarbage(server);
    assert.equal(await blobCount(server.dataDir), 0);
  });

  it('accepts four-part and opaque versions as the operator names them, ordered as docs/versions.md says', async () => {
    const upload = (product: string, version: string) =>
      server.api(`/api/v1/products/${product}/releases`, {
        method: 'POST',
        body: releaseForm(version, { 'ota.bin': Buffer.from(`image ${version}`) }, { publish: 'true' }),
      });
    const list = async (product: string) =>
      (
        (await (await server.api(`/api/v1/products/${product}/releases`)).json()) as {
          items: { version: string; label: string | null }[];
        }
      ).items.map((r) => r.label ?? r.version);
    await server.api('/api/v1/products', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'four-part', deviceFamily: 'esp-at' }),
    });
    // Published out of order: a numeric product is ordered by number, 1.2.0.0 < 1.2.0.1 < 1.3.
    for (const v of ['v2.2.0.0', '1.2.0.1', '1.3', '1.2.0.0']) {
      const res = await upload('four-part', v);
      assert.equal(res.status, 201, `${v}: ${await res.clone().text()}`);
    }
    const stored = (await (await server.api('/api/v1/products/four-part/releases/v2.2.0.0')).json()) as {
      version: string;
      label: string;
    };
    assert.deepEqual([stored.version, stored.label], ['2.2.0.0', 'v2.2.0.0'], 'found by its label too');
    assert.deepEqual(await list('four-part'), ['v2.2.0.0', '1.3', '1.2.0.1', '1.2.0.0']);
    await server.api('/api/v1/products', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'opaque', deviceFamily: 'esp-at' }),
    });
    for (const v of ['test', '2024-05-16', 'osm-fw-1.2']) {
      const res = await upload('opaque', v);
      assert.equal(res.status, 201, `${v}: ${await res.clone().text()}`);
      assert.equal(((await res.json()) as { version: string }).version, v, 'kept as given, never SemVer');
    }
    assert.deepEqual(await list('opaque'), ['osm-fw-1.2', '2024-05-16', 'test'], 'newest published first');
    const latest = await upload('opaque', 'latest');
    assert.equal(latest.status, 400);
    assert.equal(((await latest.json()) as { code: string }).code, 'INVALID_VERSION');
  });
});
