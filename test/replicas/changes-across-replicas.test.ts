import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { publishRelease, startTestServer, tempDir, type TestServer } from '../support/server.js';
import { pgSchema } from '../support/pg-schema.js';
import { esp8266SketchHeaders } from '../support/esp-headers.js';

/**
 * Issue 12: "a publish, revoke, pin, product change, token revoke or deployment change made through one replica
 * takes effect on every replica within one second". Publish, pin and token revoke are in three-replicas.test.ts;
 * here are the others, on two replicas sharing one PostgreSQL schema and one blob folder. Replica B's caches are
 * warmed right before each change: without the LISTEN/NOTIFY message B would answer from them for their whole
 * TTL (2 s) or, for deployments (held in memory with no TTL), until a restart.
 */
describe('changes through one replica reach the other within a second', () => {
  let schema: Awaited<ReturnType<typeof pgSchema>>;
  let dataDir: string;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    schema = await pgSchema();
    dataDir = await tempDir('updraft-changes-replicas-');
    a = await startTestServer({ databaseUrl: schema.url, dataDir });
    b = await startTestServer({ databaseUrl: schema.url, dataDir });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await schema?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** An ESP8266 httpUpdate check-in (sketch mode, the version it runs); the answer's status and offered version. */
  async function checkIn(server: TestServer, product: string, mac: string, version: string) {
    const res = await fetch(`${server.url}/${product}`, { headers: esp8266SketchHeaders(mac, version) });
    await res.arrayBuffer();
    return { status: res.status, offered: res.headers.get('x-version') };
  }

  /** Polls B until `ok`; fails after one second, counted from the change's answer. */
  async function withinOneSecond(what: string, ok: () => Promise<boolean>): Promise<void> {
    const start = Date.now();
    while (!(await ok())) {
      if (Date.now() - start > 1000) assert.fail(`replica B: ${what} not seen within 1 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const image = () => {
    const b = randomBytes(2000);
    b[0] = 0xe9; // an ESP image
    return b;
  };

  it('a release revoked through A is no longer offered by B', async () => {
    const mac = '18:FE:00:00:01:01';
    await publishRelease(a, 'revoked', '1.0.0', { 'firmware.bin': image() }, { deviceFamily: 'esp8266' });
    await publishRelease(a, 'revoked', '1.1.0', { 'firmware.bin': image() });
    assert.deepEqual(await checkIn(b, 'revoked', mac, '1.0.0'), { status: 200, offered: '1.1.0' }, 'B warm');
    const res = await a.api('/api/v1/products/revoked/releases/1.1.0/revoke', { method: 'POST' });
    assert.ok(res.status < 300, String(res.status));
    await withinOneSecond(
      'the revoke',
      async () => (await checkIn(b, 'revoked', mac, '1.0.0')).status === 304,
    );
  });

  it('a product change through A (rollout mode) applies on B', async () => {
    const mac = '18:FE:00:00:02:01';
    await publishRelease(a, 'changed', '1.0.0', { 'firmware.bin': image() }, { deviceFamily: 'esp8266' });
    await publishRelease(a, 'changed', '1.1.0', { 'firmware.bin': image() });
    // A product missing from B's snapshot is read from the database; B's next snapshot (its TTL is 2 s) holds it.
    await new Promise((r) => setTimeout(r, 2100));
    assert.deepEqual(await checkIn(b, 'changed', mac, '1.0.0'), { status: 200, offered: '1.1.0' }, 'B warm');
    // In `deployments` mode nobody is offered anything without a deployment.
    const res = await a.api('/api/v1/products/changed/rollout-mode', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rolloutMode: 'deployments' }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    await withinOneSecond(
      'the rollout mode',
      async () => (await checkIn(b, 'changed', mac, '1.0.0')).status === 304,
    );
  });

  it('a deployment created and cancelled through A is followed by B', async () => {
    const mac = '18:FE:00:00:03:01';
    await publishRelease(
      a,
      'staged',
      '1.0.0',
      { 'firmware.bin': image() },
      { deviceFamily: 'esp8266', settings: { rolloutMode: 'deployments' } },
    );
    await publishRelease(a, 'staged', '1.1.0', { 'firmware.bin': image() });
    assert.equal((await checkIn(b, 'staged', mac, '1.0.0')).status, 304, 'B warm: no deployment yet');
    await b.services.devices.flush();
    const created = await a.api('/api/v1/deployments', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ product: 'staged', version: '1.1.0', devices: [mac] }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { id, state } = (await created.json()) as { id: string; state: string };
    assert.equal(state, 'running');
    await withinOneSecond('the new deployment', async () => {
      const answer = await checkIn(b, 'staged', mac, '1.0.0');
      return answer.status === 200 && answer.offered === '1.1.0';
    });
    const cancelled = await a.api(`/api/v1/deployments/${id}/cancel`, { method: 'POST' });
    assert.equal(cancelled.status, 200, await cancelled.clone().text());
    await withinOneSecond(
      'the cancel',
      async () => (await checkIn(b, 'staged', mac, '1.0.0')).status === 304,
    );
  });
});
