import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { publishRelease, startTestServer, type TestServer } from '../support/server.js';
import { espImage } from '../devices/helpers.js';
import type { DeploymentInternals } from '../../src/core/deployments/deployment-service.js';
import { device, round } from './fleet.js';
import { SYSTEM } from '../../src/core/audit/context.js';

/**
 * The scheduler's tick replaces a deployment's counters with the database's while check-ins keep moving devices.
 * A move that lands between the count query's snapshot and the assignment must not be lost (an offer lost lets one
 * more download start than `maxDownloads`: scenario 4 saw three at once on PostgreSQL), nor counted twice.
 */
describe('deployments: the counters refresh and concurrent moves', () => {
  let s: TestServer;
  let int: DeploymentInternals;
  let id: string;
  const fleet = Array.from({ length: 3 }, (_, i) => device(i, { product: 'capped', version: '1.0.0' }));
  const [one, two] = fleet.map((d) => d.id) as [string, string];

  before(async () => {
    // No periodic tick: this test ticks itself.
    s = await startTestServer({ deploymentTickMs: 3_600_000 });
    for (const v of ['1.0.0', '2.0.0'])
      await publishRelease(
        s,
        'capped',
        v,
        { 'firmware.bin': espImage(4000, v.length) },
        { deviceFamily: 'esp8266' },
      );
    await s.api('/api/v1/products/capped/rollout-mode', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rolloutMode: 'deployments' }),
    });
    // Registered (and written behind) before the deployment, so they are its pending members.
    await round(s.httpPort, fleet);
    await sleep(300);
    const d = await s.services.deployments.create(SYSTEM, {
      product: 'capped',
      version: '2.0.0',
      maxDownloads: 2,
    });
    assert.ok('id' in d);
    id = d.id;
    int = s.services.deployments.internal;
  });
  after(async () => {
    await s?.close();
  });

  const live = async () => {
    const l = (await int.load()).byId.get(id);
    assert.ok(l);
    return l;
  };
  const inFlight = (l: Awaited<ReturnType<typeof live>>) =>
    l.counts.reduce((n, c) => n + c.offered + c.downloading, 0);
  const inDatabase = async () =>
    (await int.repo.counts(id))
      .filter((r) => r.state === 'offered' || r.state === 'downloading')
      .reduce((n, r) => n + r.count, 0);

  /** Ticks once while `during` runs between the count query's snapshot and its answer. */
  async function tickAround(during: () => Promise<unknown>): Promise<void> {
    const { repo } = int;
    const counts = repo.counts.bind(repo);
    let moving: Promise<unknown> | undefined;
    repo.counts = async (deploymentId) => {
      repo.counts = counts;
      const snapshot = await counts(deploymentId);
      moving = during();
      // Long enough for an unhindered move to write and update the counters before the snapshot is assigned.
      await sleep(100);
      return snapshot;
    };
    try {
      await s.services.deployments.tick(new Date());
      await moving;
    } finally {
      repo.counts = counts;
    }
  }

  it('an offer made while the tick reads the counters is still counted against the cap', async () => {
    const l = await live();
    await tickAround(() => int.move(l, one, 'offered', { wave: 0 }, 'test'));
    assert.equal(await inDatabase(), 1);
    assert.equal(inFlight(await live()), 1, 'the offer is in the counters the cap reads');
  });

  it('a download finished while the tick reads the counters leaves the cap once', async () => {
    // A quiet tick first: the counters are the database's, whatever the test before left.
    await s.services.deployments.tick(new Date());
    const l = await live();
    await int.move(l, two, 'offered', { wave: 0 }, 'test');
    assert.equal(inFlight(l), 2);
    await tickAround(() => int.move(l, two, 'downloaded', {}, 'test'));
    assert.equal(await inDatabase(), 1);
    assert.equal(inFlight(await live()), 1, 'the first is still in flight, the second no longer');
  });
});
