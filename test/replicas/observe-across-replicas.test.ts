import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { publishRelease, startTestServer, tempDir, type TestServer } from '../support/server.js';
import { coapClient, eventually } from '../coap-devices/helpers.js';
import { pgSchema } from '../support/pg-schema.js';

/**
 * Two replicas on one PostgreSQL schema and one blob folder: a CoAP client observes a resource on replica B
 * while releases are published and revoked through replica A (RFC 7641 notifications; the release events travel
 * by LISTEN/NOTIFY).
 */
describe('CoAP Observe across replicas', () => {
  let schema: Awaited<ReturnType<typeof pgSchema>>;
  let dataDir: string;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    schema = await pgSchema();
    dataDir = await tempDir('updraft-observe-replicas-');
    a = await startTestServer({ databaseUrl: schema.url, dataDir });
    b = await startTestServer({ databaseUrl: schema.url, dataDir, coapPort: 0 });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await schema?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('observers of replica B hear of a publish and a revoke made through replica A', async () => {
    await publishRelease(a, 'observed', '1.0.0', { 'firmware.bin': Buffer.from('image one') });
    const coap = b.coap?.server;
    assert.ok(coap && b.coap);
    const url = `coap://127.0.0.1:${b.coap.port}`;
    const run = coapClient(['-m', 'get', '-s', '6', '-B', '8', `${url}/fw/observed/latest/firmware.bin`]);
    await eventually(async () => (coap.observerCount > 0 ? true : undefined));
    await publishRelease(a, 'observed', '1.1.0', { 'firmware.bin': Buffer.from('image two') });
    await new Promise((r) => setTimeout(r, 300));
    const revoke = await a.api('/api/v1/products/observed/releases/1.1.0/revoke', { method: 'POST' });
    assert.ok(revoke.status < 300, String(revoke.status));
    const { stdout } = await run;
    assert.match(stdout, /image one[\s\S]*image two[\s\S]*image one/);
  });
});
