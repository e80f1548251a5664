import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { publishRelease, releaseForm, startTestServer, tempDir, type TestServer } from '../support/server.js';
import { httpRequest, rawRequest } from '../support/raw-http.js';

/**
 * One list of scenarios, run through the real HTTP API and a real device protocol on each database the
 * server supports: "the same behaviour on PostgreSQL" means these exact assertions pass there too. PostgreSQL is
 * UPDRAFT_TEST_POSTGRES_URL (`npm test` starts a throw-away server when it is unset), in a schema of its own.
 */
const PG_BASE = process.env.UPDRAFT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const json = { 'content-type': 'application/json' };
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function espImage(size: number): Buffer {
  const image = randomBytes(size);
  image[0] = 0xe9;
  return image;
}

/** The ESP8266httpUpdate check-in (test/devices/esp-httpupdate.test.ts has the capture). */
function esp8266(port: number, product: string, mac: string, version: string) {
  return rawRequest(
    port,
    httpRequest([
      `GET /${product} HTTP/1.0`,
      `Host: 127.0.0.1:${port}`,
      'User-Agent: ESP8266-http-Update',
      'Connection: close',
      `x-ESP8266-STA-MAC: ${mac}`,
      `x-ESP8266-AP-MAC: ${mac}`,
      'x-ESP8266-free-space: 4194304',
      'x-ESP8266-sketch-size: 400000',
      'x-ESP8266-sketch-md5: 00112233445566778899aabbccddeeff',
      'x-ESP8266-chip-size: 4194304',
      'x-ESP8266-sdk-version: 2.5.0',
      'x-ESP8266-mode: sketch',
      `x-ESP8266-version: ${version}`,
      'Content-Length: 0',
    ]),
  );
}

interface Backend {
  name: string;
  /** The `databaseUrl` for a fresh, empty database; '' is SQLite in the data folder. */
  database(): Promise<string>;
  cleanup(): Promise<void>;
}

const sqlite: Backend = { name: 'SQLite', database: async () => '', cleanup: async () => undefined };

function postgres(): Backend {
  const schemas: string[] = [];
  return {
    name: 'PostgreSQL',
    async database() {
      const schema = `updraft_e2e_${randomBytes(5).toString('hex')}`;
      const client = new pg.Client({ connectionString: PG_BASE });
      await client.connect();
      await client.query(`create schema ${schema}`);
      await client.end();
      schemas.push(schema);
      const sep = PG_BASE.includes('?') ? '&' : '?';
      return `${PG_BASE}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    },
    async cleanup() {
      const client = new pg.Client({ connectionString: PG_BASE });
      await client.connect();
      for (const s of schemas) await client.query(`drop schema if exists ${s} cascade`);
      await client.end();
    },
  };
}

for (const backend of [sqlite, postgres()]) {
  describe(`the same scenarios on ${backend.name}`, () => {
    let server: TestServer;
    let dataDir: string;
    let databaseUrl: string;
    const start = () => startTestServer({ dataDir, databaseUrl });

    before(async () => {
      dataDir = await tempDir();
      databaseUrl = await backend.database();
      server = await start();
    });
    after(async () => {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
      await backend.cleanup();
    });

    it('products: create, refuse a duplicate, change, list, refuse to delete one with releases', async () => {
      const created = await server.api('/api/v1/products', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ name: 'lamp', deviceFamily: 'esp8266', description: 'desk lamp' }),
      });
      assert.equal(created.status, 201);
      const dup = await server.api('/api/v1/products', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ name: 'lamp' }),
      });
      assert.equal(dup.status, 409);
      assert.equal(((await dup.json()) as { code: string }).code, 'PRODUCT_EXISTS');
      const patched = await server.api('/api/v1/products/lamp', {
        method: 'PATCH',
        headers: json,
        body: JSON.stringify({ hardwareClass: 'rev-b', settings: { note: 'x' } }),
      });
      assert.equal(patched.status, 200);
      const product = (await (await server.api('/api/v1/products/lamp')).json()) as Record<string, unknown>;
      assert.deepEqual(
        [product.description, product.deviceFamily, product.hardwareClass, product.settings],
        ['desk lamp', 'esp8266', 'rev-b', { note: 'x' }],
      );
      await publishRelease(server, 'lamp', '0.1.0', { 'firmware.bin': espImage(100) });
      const refused = await server.api('/api/v1/products/lamp', { method: 'DELETE' });
      assert.equal(refused.status, 409);
      const names = ((await (await server.api('/api/v1/products')).json()) as { items: { name: string }[] })
        .items;
      assert.deepEqual(
        names.map((p) => p.name),
        ['lamp'],
      );
    });

    it('releases: normalised versions, draft → published → revoked → published, newest first, delete', async () => {
      const upload = (version: string, publish: boolean) =>
        server.api('/api/v1/products/lamp/releases', {
          method: 'POST',
          body: releaseForm(version, { 'firmware.bin': espImage(2000) }, publish ? { publish: 'true' } : {}),
        });
      const draft = (await (await upload('1.2', false)).json()) as { version: string; state: string };
      assert.deepEqual([draft.version, draft.state], ['1.2.0', 'draft']);
      assert.equal((await upload('1.2.0', true)).status, 409, 'the same version again');
      assert.equal((await upload('1.10.0', true)).status, 201);
      const act = async (version: string, action: string) =>
        (
          (await (
            await server.api(`/api/v1/products/lamp/releases/${version}/${action}`, { method: 'POST' })
          ).json()) as {
            state: string;
          }
        ).state;
      assert.equal(await act('1.2.0', 'publish'), 'published');
      assert.equal(await act('1.2.0', 'revoke'), 'revoked');
      const published = (await (
        await server.api('/api/v1/products/lamp/releases?state=published')
      ).json()) as { items: { version: string }[] };
      assert.deepEqual(
        published.items.map((r) => r.version),
        ['1.10.0', '0.1.0'],
      );
      assert.equal(await act('1.2.0', 'publish'), 'published');
      const all = (await (await server.api('/api/v1/products/lamp/releases')).json()) as {
        items: { version: string }[];
      };
      assert.deepEqual(
        all.items.map((r) => r.version),
        ['1.10.0', '1.2.0', '0.1.0'],
      );
      assert.equal(
        (await server.api('/api/v1/products/lamp/releases/1.2.0', { method: 'DELETE' })).status,
        204,
      );
      assert.equal((await server.api('/api/v1/products/lamp/releases/1.2.0')).status, 404);
    });

    it('a digest mismatch is 422 and keeps nothing', async () => {
      const image = espImage(3000);
      const res = await server.api('/api/v1/products/lamp/releases', {
        method: 'POST',
        body: releaseForm(
          '9.0.0',
          { 'firmware.bin': image },
          { 'sha256.firmware.bin': sha256(image.subarray(1)) },
        ),
      });
      assert.equal(res.status, 422);
      assert.equal((await server.api('/api/v1/products/lamp/releases/9.0.0')).status, 404);
    });

    it('a device is offered the newest release, downloads it byte for byte, and is recorded', async () => {
      const image = espImage(40_000);
      await publishRelease(server, 'lamp', '2.0.0', { 'firmware.bin': image });
      const res = await esp8266(server.httpPort, 'lamp', 'AA:BB:CC:00:00:01', '1.10.0');
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-version'], '2.0.0');
      assert.deepEqual(res.body, image);
      assert.equal((await esp8266(server.httpPort, 'lamp', 'AA:BB:CC:00:00:02', '2.0.0')).status, 304);
      const device = (await (await server.api('/api/v1/devices/AA-BB-CC-00-00-01')).json()) as {
        version: string;
        lastOffered: string;
        history: { kind: string }[];
      };
      assert.equal(device.version, '1.10.0');
      assert.equal(device.lastOffered, '2.0.0');
      assert.ok(device.history.some((e) => e.kind === 'offered'));
    });

    it('a pinned device gets exactly its version, lower included; unpinned, the newest again', async () => {
      const pin = (version: string | null) =>
        server.api('/api/v1/devices/aa:bb:cc:00:00:02/pin', {
          method: 'PUT',
          headers: json,
          body: JSON.stringify({ version }),
        });
      assert.equal((await pin('1.10.0')).status, 200);
      const down = await esp8266(server.httpPort, 'lamp', 'AA:BB:CC:00:00:02', '2.0.0');
      assert.equal(down.status, 200);
      assert.equal(down.headers['x-version'], '1.10.0');
      assert.equal((await pin(null)).status, 200);
      assert.equal((await esp8266(server.httpPort, 'lamp', 'AA:BB:CC:00:00:02', '2.0.0')).status, 304);
    });

    it('lists, filters, sorts and pages devices, and counts them', async () => {
      for (let i = 3; i <= 12; i++) {
        const mac = `AA:BB:CC:00:00:${String(i).padStart(2, '0')}`;
        await esp8266(server.httpPort, 'lamp', mac, i % 2 ? '2.0.0' : '1.10.0');
      }
      const page = (await (
        await server.api('/api/v1/devices?product=lamp&sort=id&order=desc&limit=5&offset=2')
      ).json()) as { items: { id: string }[]; total: number };
      assert.equal(page.total, 12);
      assert.deepEqual(
        page.items.map((d) => d.id),
        [
          'aa:bb:cc:00:00:10',
          'aa:bb:cc:00:00:09',
          'aa:bb:cc:00:00:08',
          'aa:bb:cc:00:00:07',
          'aa:bb:cc:00:00:06',
        ],
      );
      const older = (await (await server.api('/api/v1/devices?version=1.10.0')).json()) as { total: number };
      assert.equal(older.total, 6);
      const stats = (await (await server.api('/api/v1/stats?hours=24')).json()) as {
        total: number;
        byProductVersion: { version: string; count: number }[];
      };
      assert.equal(stats.total, 12);
      assert.deepEqual(stats.byProductVersion.map((r) => [r.version, r.count]).sort(), [
        ['1.10.0', 6],
        ['2.0.0', 6],
      ]);
    });

    it('tokens: created once with their value, listed without it, revoked', async () => {
      const created = await server.api('/api/v1/tokens', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ kind: 'device', name: 'line-1', product: 'lamp' }),
      });
      assert.equal(created.status, 201);
      const token = (await created.json()) as { id: string; token: string };
      assert.match(token.token, /^[0-9a-f]{40}$/);
      const list = (await (await server.api('/api/v1/tokens?kind=device')).json()) as {
        items: Record<string, unknown>[];
      };
      assert.equal(list.items.length, 1);
      assert.equal(list.items[0]?.token, undefined);
      assert.equal(list.items[0]?.hash, undefined);
      assert.equal((await server.api(`/api/v1/tokens/${token.id}`, { method: 'DELETE' })).status, 204);
      assert.equal((await server.api(`/api/v1/tokens/${token.id}`, { method: 'DELETE' })).status, 404);
    });

    it('serves ranges of an artifact and answers 304 to its ETag', async () => {
      const url = '/api/v1/products/lamp/releases/2.0.0/artifacts/firmware.bin';
      const full = Buffer.from(await (await server.api(url)).arrayBuffer());
      const part = await server.api(url, { headers: { Range: 'bytes=100-199' } });
      assert.equal(part.status, 206);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), full.subarray(100, 200));
      const etag = (await server.api(url, { method: 'HEAD' })).headers.get('etag');
      assert.ok(etag);
      assert.equal((await server.api(url, { headers: { 'If-None-Match': etag } })).status, 304);
    });

    it('keeps everything across a restart on the same database', async () => {
      await server.close();
      server = await start();
      assert.equal((await server.api('/readyz')).status, 200);
      const releases = (await (await server.api('/api/v1/products/lamp/releases')).json()) as {
        items: { version: string; state: string }[];
      };
      assert.deepEqual(
        releases.items.map((r) => `${r.version} ${r.state}`),
        ['2.0.0 published', '1.10.0 published', '0.1.0 published'],
      );
      const devices = (await (await server.api('/api/v1/devices?product=lamp')).json()) as { total: number };
      assert.equal(devices.total, 12);
      const image = Buffer.from(
        await (await server.api('/api/v1/products/lamp/releases/2.0.0/artifacts/firmware.bin')).arrayBuffer(),
      );
      assert.equal(image.length, 40_000);
    });
  });
}
