import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request, Agent, type IncomingMessage } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ADMIN_TOKEN, releaseForm, spawnServer, tempDir, type SpawnedServer } from '../support/server.js';
import { createFsKeyStore } from '../../src/storage/keys/fs-key-store.js';
import { pgSchema } from '../support/pg-schema.js';
import { createBucket, rgw } from '../support/rgw.js';
import { startNginx, type Balancer } from './nginx.js';
import { riotbootHeader } from '../../src/core/manifests/riotboot.js';

/**
 * Three `updraft serve` processes on one PostgreSQL schema and one S3 bucket (Ceph's RADOS Gateway, started by the
 * test support), each with a data folder of its own, behind Debian's nginx, as docs/deployment.md lays out
 * production. The signing keys are the one folder they share (`--keys-dir`).
 */
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const agent = new Agent({ keepAlive: false, maxSockets: 64 });

function espHeaders(mac: string, version: string): Record<string, string> {
  return {
    'User-Agent': 'ESP8266-http-Update',
    'x-ESP8266-Chip-ID': '15602487',
    'x-ESP8266-STA-MAC': mac,
    'x-ESP8266-AP-MAC': mac,
    'x-ESP8266-free-space': String(64 * 1024 * 1024),
    'x-ESP8266-sketch-size': '400000',
    'x-ESP8266-sketch-md5': '00112233445566778899aabbccddeeff',
    'x-ESP8266-chip-size': String(64 * 1024 * 1024),
    'x-ESP8266-sdk-version': '2.5.0',
    'x-ESP8266-mode': 'sketch',
    'x-ESP8266-version': version,
  };
}

/** A device request with Node's own client (so the source address can be chosen); resolves at the headers. */
function deviceGet(
  url: string,
  headers: Record<string, string>,
  localAddress?: string,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent, localAddress }, resolve);
    req.on('error', reject);
    req.end();
  });
}

async function body(res: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of res) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

const api = (base: string, path: string, init: RequestInit = {}, token = ADMIN_TOKEN) =>
  fetch(`${base}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) },
  });

async function createProduct(base: string, product: Record<string, unknown>): Promise<void> {
  const res = await api(base, '/api/v1/products', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(product),
  });
  assert.equal(res.status, 201, await res.text());
}

async function publish(base: string, product: string, version: string, files: Record<string, Buffer>) {
  const res = await api(base, `/api/v1/products/${product}/releases`, {
    method: 'POST',
    body: releaseForm(version, files, { publish: 'true' }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as { artifacts: { name: string }[] };
}

describe('three replicas on PostgreSQL behind nginx', () => {
  let schema: Awaited<ReturnType<typeof pgSchema>>;
  let dataDirs: string[] = [];
  let keysDir: string;
  let dropDir: string;
  let nginxDir: string;
  const replicas: SpawnedServer[] = [];
  let lb: Balancer;
  const image = randomBytes(24 * 1024 * 1024);

  before(async () => {
    const s3 = await rgw();
    const bucket = await createBucket(s3, 'replicas');
    schema = await pgSchema();
    dataDirs = [
      await tempDir('updraft-replica-a-'),
      await tempDir('updraft-replica-b-'),
      await tempDir('updraft-replica-c-'),
    ];
    keysDir = await tempDir('updraft-replicas-keys-');
    dropDir = await tempDir('updraft-replicas-drop-');
    nginxDir = await tempDir('updraft-replicas-nginx-');
    await createFsKeyStore({ dir: keysDir }).generate('riot', 'ed25519');
    await writeFile(join(dropDir, 'dropped-1.0.0.bin'), randomBytes(5000));
    const args = [
      '--database-url',
      schema.url,
      '--firmware-dir',
      dropDir,
      '--trust-proxy',
      '127.0.0.1',
      '--coap-public-url',
      'coap://[2001:db8::1]/',
      '--keys-dir',
      keysDir,
    ];
    const env = {
      UPDRAFT_LEADER_POLL_MS: '300',
      UPDRAFT_FLUSH_INTERVAL_MS: '200',
      UPDRAFT_BLOB_STORE: `s3://${bucket}/updraft`,
      UPDRAFT_S3_ENDPOINT: s3.endpoint,
      UPDRAFT_S3_REGION: s3.region,
      UPDRAFT_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    };
    const start = (dir: string) => spawnServer(dir, args, env, { startTimeoutMs: 90_000 });
    // The first one migrates; the others start together, as after a rolling deploy.
    replicas.push(await start(dataDirs[0]!));
    replicas.push(...(await Promise.all([start(dataDirs[1]!), start(dataDirs[2]!)])));
    lb = await startNginx(
      nginxDir,
      replicas.map((r) => r.port),
    );
  });

  after(async () => {
    await lb?.stop();
    await Promise.all(replicas.map((r) => r.stop()));
    await schema?.drop();
    for (const d of [...dataDirs, keysDir, dropDir, nginxDir])
      if (d) await rm(d, { recursive: true, force: true });
  });

  const leaders = (task: string) =>
    replicas.filter(
      (r) =>
        r.child.exitCode === null &&
        r.child.signalCode === null &&
        r.output().includes(`"task":"${task}","msg":"leader: starting singleton work"`),
    );

  it('runs the drop folder on exactly one replica, which imported the file once', async () => {
    await until(
      'the dropped file imported',
      async () =>
        (await api(lb.url, '/api/v1/products/dropped/releases/1.0.0')).status === 200 ? true : undefined,
      10_000,
    );
    assert.equal(leaders('drop-folder').length, 1, 'one leader for the drop folder');
    for (const r of replicas) assert.doesNotMatch(r.output(), /VERSION_EXISTS/);
  });

  it('publish through one replica, devices update through the balancer; device addresses are the real ones', async () => {
    await createProduct(replicas[0]!.url, { name: 'sensor', deviceFamily: 'esp8266' });
    await publish(replicas[0]!.url, 'sensor', '1.0.1', { 'firmware.bin': image });
    const mac = '5C:CF:7F:00:00:01';
    // From 127.0.0.2: nginx sees that address; the replicas see only nginx (127.0.0.1) on the socket.
    const res = await deviceGet(`${lb.url}/sensor`, espHeaders(mac, '1.0.0'), '127.0.0.2');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-md5'], md5(image));
    const got = await body(res);
    assert.equal(sha256(got), sha256(image));
    const device = (await (await api(lb.url, `/api/v1/devices/${mac}`)).json()) as { address: string };
    assert.equal(device.address, '127.0.0.2', '--trust-proxy: the address nginx saw');
    for (const dir of dataDirs) {
      assert.equal(
        existsSync(join(dir, 'blobs', 'sha256')),
        false,
        'the images live in the bucket, not on disk',
      );
    }
  });

  it('a publish through one replica reaches a warm cache on every other within a second', async () => {
    const mac = '5C:CF:7F:00:00:02';
    await createProduct(replicas[0]!.url, { name: 'tiny', deviceFamily: 'esp8266' });
    await publish(replicas[0]!.url, 'tiny', '1.0.0', { 'firmware.bin': randomBytes(1000) });
    for (const r of replicas) {
      const warm = await deviceGet(`${r.url}/tiny`, espHeaders(mac, '1.0.0'));
      await body(warm);
      assert.equal(warm.statusCode, 304, 'warm: nothing newer');
    }
    await publish(replicas[1]!.url, 'tiny', '1.0.1', { 'firmware.bin': randomBytes(1000) });
    // From the publish's answer, every replica offers the new release within a second.
    await Promise.all(
      replicas.map((r) =>
        until(
          `replica :${r.port} to offer 1.0.1`,
          async () => {
            const res = await deviceGet(`${r.url}/tiny`, espHeaders(mac, '1.0.0'));
            await body(res);
            return res.statusCode === 200 ? true : undefined;
          },
          1000,
        ),
      ),
    );
  });

  it('a pin set through one replica applies on every other within a second', async () => {
    const mac = '5C:CF:7F:00:00:02';
    for (const r of replicas) {
      const warm = await deviceGet(`${r.url}/tiny`, espHeaders(mac, '1.0.1'));
      await body(warm);
      assert.equal(warm.statusCode, 304, 'warm: on the newest');
    }
    const pin = await api(replicas[2]!.url, `/api/v1/devices/${mac}/pin`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: '1.0.0' }),
    });
    assert.equal(pin.status, 200, await pin.clone().text());
    await Promise.all(
      replicas.map((r) =>
        until(
          `replica :${r.port} to offer the pinned 1.0.0`,
          async () => {
            const res = await deviceGet(`${r.url}/tiny`, espHeaders(mac, '1.0.1'));
            await body(res);
            return res.statusCode === 200 && res.headers['x-version'] === '1.0.0' ? true : undefined;
          },
          1000,
        ),
      ),
    );
  });

  it('a token revoked on one replica is refused on all within one second', async () => {
    const created = await api(replicas[0]!.url, '/api/v1/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'admin', name: 'ops' }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { token, id } = (await created.json()) as { token: string; id: string };
    for (const r of replicas) assert.equal((await api(r.url, '/api/v1/products', {}, token)).status, 200);
    const revoked = await api(replicas[2]!.url, `/api/v1/tokens/${id}`, { method: 'DELETE' });
    assert.ok(revoked.status < 300, String(revoked.status));
    const start = Date.now();
    for (const r of replicas) {
      await until(
        'the token refused',
        async () => ((await api(r.url, '/api/v1/products', {}, token)).status === 401 ? true : undefined),
        1000,
      );
    }
    const took = Date.now() - start;
    assert.ok(took < 1000, `refused everywhere after ${took} ms`);
  });

  it('1,000 devices checking in round-robin leave a consistent registry', async () => {
    await createProduct(replicas[0]!.url, { name: 'fleet', deviceFamily: 'esp8266' });
    await publish(replicas[0]!.url, 'fleet', '1.0.1', { 'firmware.bin': randomBytes(512) });
    const macs = Array.from({ length: 1000 }, (_, i) =>
      `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`.toUpperCase(),
    );
    const servedBy = new Set<string>();
    async function round(version: string, expect: number): Promise<void> {
      let next = 0;
      await Promise.all(
        Array.from({ length: 24 }, async () => {
          while (next < macs.length) {
            const mac = macs[next++]!;
            const res = await deviceGet(`${lb.url}/fleet`, espHeaders(mac, version));
            await body(res);
            assert.equal(res.statusCode, expect);
            servedBy.add(String(res.headers['x-upstream']));
          }
        }),
      );
    }
    await round('1.0.0', 200);
    const secondRound = new Date().toISOString();
    await round('1.0.1', 304);
    // Every replica writes its batch within the flush interval (200 ms).
    await sleep(1000);
    const res = await api(lb.url, '/api/v1/devices?product=fleet&limit=1000');
    const page = (await res.json()) as {
      total: number;
      items: { id: string; version: string; lastSeen: string }[];
    };
    assert.equal(page.total, 1000);
    const stale = page.items.filter((d) => d.version !== '1.0.1' || d.lastSeen < secondRound);
    assert.deepEqual(stale, [], 'every device shows its newest check-in');
    assert.equal(servedBy.size, 3, `round-robin over the three replicas: ${[...servedBy].join(' ')}`);
  });

  it('SUIT sequence numbers stay unique under concurrent publishes through different replicas', async () => {
    await createProduct(replicas[0]!.url, {
      name: 'riot_app',
      deviceFamily: 'riot',
      hardwareClass: 'samr21-xpro',
      settings: { suit: { key: 'riot', slot0Offset: 0x1000, slot1Offset: '0x20800' } },
    });
    const results = await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        publish(replicas[i % 3]!.url, 'riot_app', `1.0.${i}`, {
          // Slot images as riotboot builds them: the server checks the header at publish.
          'slot0.1700000000.bin': Buffer.concat([riotbootHeader(i, 0x1100), randomBytes(4096)]),
          slot1: Buffer.concat([riotbootHeader(i, 0x20900), randomBytes(4096)]),
        }),
      ),
    );
    const seqs = results.map((r) => {
      const name = r.artifacts.map((a) => a.name).find((n) => /^riot\.suit\.\d+\.bin$/.test(n));
      assert.ok(name);
      return Number(name.split('.')[2]);
    });
    assert.equal(new Set(seqs).size, seqs.length, `duplicate sequence numbers: ${seqs.join(',')}`);
  });

  it('kill -9 of the replica serving a download: the retry with Range completes byte-identical', async () => {
    const mac = '5C:CF:7F:00:00:03';
    const res = await deviceGet(`${lb.url}/sensor`, espHeaders(mac, '1.0.0'));
    assert.equal(res.statusCode, 200);
    const upstream = String(res.headers['x-upstream']);
    const victim = replicas.find((r) => upstream.endsWith(`:${r.port}`));
    assert.ok(victim, `served by ${upstream}`);
    const parts: Buffer[] = [];
    let received = 0;
    let killed = false;
    await new Promise<void>((resolve) => {
      res.on('data', (chunk: Buffer) => {
        parts.push(chunk);
        received += chunk.length;
        if (!killed && received >= 1024 * 1024) {
          killed = true;
          victim.child.kill('SIGKILL');
        }
      });
      res.on('end', resolve);
      res.on('error', () => resolve());
      res.on('aborted', () => resolve());
      res.on('close', () => resolve());
    });
    const first = Buffer.concat(parts);
    assert.ok(first.length < image.length, `the transfer was cut (${first.length} of ${image.length})`);
    // A resume that names the image it continues (If-Range with the first answer's ETag) is served by any
    // replica; one without a validator is continued only by the process that started it (docs/security.md).
    const etag = String(res.headers.etag ?? '');
    assert.ok(etag, 'the first answer carries the artifact ETag');
    const retry = await deviceGet(`${lb.url}/sensor`, {
      ...espHeaders(mac, '1.0.0'),
      Range: `bytes=${first.length}-`,
      'If-Range': etag,
    });
    assert.equal(retry.statusCode, 206);
    assert.ok(!String(retry.headers['x-upstream']).endsWith(`:${victim.port}`));
    const rest = await body(retry);
    assert.equal(sha256(Buffer.concat([first, rest])), sha256(image), 'byte-identical');
  });

  it('kill the drop-folder leader: another replica imports a new file', async () => {
    const [leader] = leaders('drop-folder');
    assert.ok(leader, 'a live leader');
    leader.child.kill('SIGKILL');
    await new Promise((r) => leader.child.once('exit', r));
    await mkdir(dropDir, { recursive: true });
    await writeFile(join(dropDir, 'dropped-2.0.0.bin'), randomBytes(5000));
    await until(
      '2.0.0 imported by another replica',
      async () =>
        (await api(lb.url, '/api/v1/products/dropped/releases/2.0.0')).status === 200 ? true : undefined,
      15_000,
    );
    assert.equal(leaders('drop-folder').length, 1, 'a surviving replica took over');
    assert.notEqual(leaders('drop-folder')[0], leader);
  });
});
