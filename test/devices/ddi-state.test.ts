import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { publishRelease, startTestServer, type TestServer } from '../support/server.js';
import { json } from './helpers.js';

type Links = Record<string, { href: string }>;

/**
 * What the DDI adapter holds in memory (devices' DDI state, matched tokens: known-devices.ts, token-lookup.ts)
 * must never outlive the change that made it wrong: a revoke, a deletion, a pin.
 */
describe('hawkBit DDI state kept in memory', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await publishRelease(server, 'mem', '1.0.0', { 'rootfs.swu': randomBytes(2048) });
  });
  after(async () => server?.close());

  async function newToken(): Promise<{ token: string; id: string }> {
    const res = await server.api('/api/v1/tokens', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ kind: 'device', product: 'mem' }),
    });
    assert.equal(res.status, 201);
    return (await res.json()) as { token: string; id: string };
  }
  const base = (id: string) => `${server.url}/default/controller/v1/${id}`;
  const auth = (token: string) => ({ Authorization: `GatewayToken ${token}` });
  async function poll(id: string, token: string): Promise<Links> {
    const res = await fetch(base(id), { headers: auth(token) });
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { _links?: Links })._links ?? {};
  }
  const configData = (id: string, token: string) =>
    fetch(`${base(id)}/configData`, {
      method: 'PUT',
      headers: { ...auth(token), ...json },
      body: JSON.stringify({ mode: 'merge', data: { board: 'b1' } }),
    });

  it('a revoked token is refused by the next poll, though it matched a moment before', async () => {
    const { token, id } = await newToken();
    await poll('rev-1', token);
    await poll('rev-1', token);
    const revoked = await server.api(`/api/v1/tokens/${id}`, { method: 'DELETE' });
    assert.equal(revoked.status, 204);
    const res = await fetch(base('rev-1'), { headers: auth(token) });
    assert.equal(res.status, 401, await res.text());
  });

  it('a deleted device starts over: its next poll links configData again', async () => {
    const { token } = await newToken();
    await poll('del-1', token);
    assert.equal((await configData('del-1', token)).status, 200);
    assert.equal((await poll('del-1', token)).configData, undefined, 'configData sent');
    const removed = await server.api('/api/v1/devices/del-1', { method: 'DELETE' });
    assert.equal(removed.status, 204, await removed.text());
    assert.ok(
      (await poll('del-1', token)).configData,
      'the forgotten device is asked for its attributes again',
    );
  });

  it('configData is answered from the new state by the very next poll', async () => {
    const { token } = await newToken();
    assert.ok((await poll('cfg-1', token)).configData);
    assert.equal((await configData('cfg-1', token)).status, 200);
    assert.equal((await poll('cfg-1', token)).configData, undefined);
  });
});
