import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createFsKeyStore } from '../../src/storage/keys/fs-key-store.js';
import { positionOf } from '../../src/core/deployments/waves.js';
import { riotbootHeader } from '../../src/core/manifests/riotboot.js';
import { publishRelease, startTestServer, tempDir, type TestServer } from '../support/server.js';
import { startScriptedDevice, type ScriptedDevice } from '../riot-seed/helpers.js';
import { sleep } from './fleet.js';

/**
 * RIOT devices are notified, not polled: a deployment of a SUIT release triggers each wave's devices
 * (`POST /suit/trigger` with the manifest's URL, the path `notify` uses) as the wave opens, at its pace.
 */
describe('deployments to RIOT devices: notified wave by wave, at the deployment pace', () => {
  let server: TestServer;
  const nodes: ScriptedDevice[] = [];

  before(async () => {
    const dataDir = await tempDir();
    await createFsKeyStore({ dir: join(dataDir, 'keys') }).generate('riot', 'ed25519');
    server = await startTestServer({
      dataDir,
      coapPort: 0,
      coapPublicUrl: 'coap://[2001:db8::1]',
      deploymentTickMs: 100,
    });
    for (let i = 0; i < 4; i++) nodes.push(await startScriptedDevice({ triggerCode: 0x41 }));
  });
  after(async () => {
    for (const n of nodes) await n.close();
    await server.close();
  });

  it('triggers the canary first, then the next wave, never faster than the rate', async () => {
    const release = (await publishRelease(
      server,
      'rapp',
      '1.1.0',
      // Slot images as riotboot builds them (a header, then the application): the server checks the header.
      {
        slot0: Buffer.concat([riotbootHeader(1, 0x1100), Buffer.alloc(4000, 1)]),
        slot1: Buffer.concat([riotbootHeader(1, 0x20900), Buffer.alloc(4000, 2)]),
      },
      {
        deviceFamily: 'riot',
        hardwareClass: 'samr21-xpro',
        settings: { suit: { key: 'riot', slot0Offset: 0x1000, slot1Offset: '0x20800' } },
      },
    )) as { artifacts: { name: string }[] };
    const manifest = release.artifacts.find((a) => /^riot\.suit\.\d+\.bin$/.test(a.name))?.name;
    assert.ok(manifest, 'a signed manifest was generated at publish');

    const res = await server.api('/api/v1/deployments', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        product: 'rapp',
        version: '1.1.0',
        devices: nodes.map((n) => n.address),
        waves: ['1', '4'],
        successPercent: 0,
        ratePerMinute: 2,
      }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const d = (await res.json()) as { id: string; total: number };
    assert.equal(d.total, 4, 'devices named in the target are members though the registry never saw them');
    const canary = [...nodes].sort((a, b) => positionOf(d.id, a.address) - positionOf(d.id, b.address))[0];

    const triggered = () => nodes.filter((n) => n.received.some((r) => r.path === 'suit/trigger'));
    for (let i = 0; i < 50 && triggered().length < 2; i++) await sleep(100);
    await sleep(500);
    const got = triggered();
    assert.equal(got.length, 2, 'two a minute: the canary and one of wave 2');
    const first = got.sort(
      (a, b) =>
        (a.received.find((r) => r.path === 'suit/trigger')?.at ?? 0) -
        (b.received.find((r) => r.path === 'suit/trigger')?.at ?? 0),
    )[0];
    assert.equal(first, canary, 'the canary is triggered first');
    for (const n of got) {
      const trigger = n.received.filter((r) => r.path === 'suit/trigger');
      assert.equal(trigger.length, 1);
      assert.equal(trigger[0]?.payload, `coap://[2001:db8::1]/fw/rapp/samr21-xpro/${manifest}`);
    }
    const shown = (await (await server.api(`/api/v1/deployments/${d.id}`)).json()) as {
      currentWave: number;
      counts: Record<string, number>;
    };
    assert.equal(shown.currentWave, 1);
    assert.deepEqual([shown.counts.offered, shown.counts.pending], [2, 2]);
  });
});
