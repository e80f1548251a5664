import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { publishRelease, startTestServer, type TestServer } from '../support/server.js';
import { json } from './helpers.js';
import { SYSTEM } from '../../src/core/audit/context.js';

const hhmm = (d: Date) => d.toISOString().slice(11, 16);
const inHours = (h: number) => new Date(Date.now() + h * 3600_000);

/** The DDI and SWUpdate general answers driven by a deployment (window, options), over the wire. */
describe('DDI and the general protocol in deployments', () => {
  let server: TestServer;
  const tokens: Record<string, string> = {};

  before(async () => {
    server = await startTestServer();
  });
  after(async () => server?.close());

  /** A product in deployments mode with 1.0.0 published and these devices registered (one poll each). */
  async function setup(product: string, devices: string[]) {
    await publishRelease(
      server,
      product,
      '1.0.0',
      { 'update.swu': randomBytes(500) },
      {
        settings: { rolloutMode: 'deployments', ddi: { pollingSleep: '01:00:00' } },
      },
    );
    for (const id of devices) {
      const res = await server.api('/api/v1/tokens', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ kind: 'device', product, device: id }),
      });
      tokens[id] = ((await res.json()) as { token: string }).token;
      assert.equal((await poll(id)).status, 200);
    }
    await server.services.devices.flush();
  }

  const poll = (id: string) =>
    fetch(`${server.url}/default/controller/v1/${id}`, {
      headers: { Authorization: `TargetToken ${tokens[id]}` },
    });

  it('outside the window: no action, the sleep shortened to the window; the general protocol answers 503', async () => {
    await setup('win', ['w-1']);
    const start = inHours(1);
    await server.services.deployments.create(SYSTEM, {
      product: 'win',
      version: '1.0.0',
      devices: ['w-1'],
      window: { start: hhmm(start), end: hhmm(inHours(2)), timeZone: 'UTC' },
    });
    const body = (await (await poll('w-1')).json()) as {
      config: { polling: { sleep: string } };
      _links?: Record<string, unknown>;
    };
    assert.equal(body._links?.deploymentBase, undefined);
    const [h, m, s] = body.config.polling.sleep.split(':').map(Number) as [number, number, number];
    const sleep = h * 3600 + m * 60 + s;
    assert.ok(
      sleep <= 3600 && sleep >= 3000,
      `sleep until the window opens, at most the product's: ${body.config.polling.sleep}`,
    );

    const general = await fetch(`${server.url}/swupdate/win?id=w-1`, {
      headers: { 'X-Updraft-Token': tokens['w-1'] as string },
      redirect: 'manual',
    });
    assert.equal(general.status, 503);
    const retry = Number(general.headers.get('retry-after'));
    assert.ok(retry > 0 && retry <= 3600, `Retry-After ${retry}`);
  });

  it('inside the window: maintenanceWindow available, ddi.download from the options', async () => {
    await setup('win2', ['w-2']);
    await server.services.deployments.create(SYSTEM, {
      product: 'win2',
      version: '1.0.0',
      devices: ['w-2'],
      window: { start: hhmm(inHours(-1)), end: hhmm(inHours(1)), timeZone: 'UTC' },
      options: { 'ddi.download': 'attempt' },
    });
    const p = (await (await poll('w-2')).json()) as { _links: Record<string, { href: string }> };
    const d = (await (
      await fetch(p._links.deploymentBase?.href ?? '', {
        headers: { Authorization: `TargetToken ${tokens['w-2']}` },
      })
    ).json()) as { deployment: Record<string, unknown> };
    assert.equal(d.deployment.maintenanceWindow, 'available');
    assert.equal(d.deployment.download, 'attempt');
    assert.equal(d.deployment.update, 'forced');
  });
});
