import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { ADMIN_TOKEN, releaseForm, spawnServer, tempDir } from '../support/server.js';

type Links = Record<string, { href: string }>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The DDI adapter keeps each device's DDI state in memory (src/transports/http/devices/ddi/known-devices.ts) and
 * drops it on every process through the bus after each write. `--workers 2` on SQLite: the primary hands new
 * connections to its workers in turn, so requests with `Connection: close` reach both, and a worker that did not
 * take a write must answer from the new state right after it (its old copy would have lasted 3 s before).
 */
describe('hawkBit DDI across --workers', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('configData, deploymentBase and a closing feedback through one worker are seen by the other at once', async () => {
    const dataDir = await tempDir('updraft-ddi-workers-');
    dirs.push(dataDir);
    const server = await spawnServer(dataDir, ['--workers', '2'], {}, { startTimeoutMs: 90_000 });
    try {
      const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
      const json = { ...admin, 'content-type': 'application/json' };
      const product = await fetch(`${server.url}/api/v1/products`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ name: 'gw' }),
      });
      assert.equal(product.status, 201, await product.text());
      const release = await fetch(`${server.url}/api/v1/products/gw/releases`, {
        method: 'POST',
        headers: admin,
        body: releaseForm('1.0.0', { 'update.swu': randomBytes(4096) }, { publish: 'true' }),
      });
      assert.equal(release.status, 201, await release.text());
      const created = await fetch(`${server.url}/api/v1/tokens`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ kind: 'device', product: 'gw' }),
      });
      assert.equal(created.status, 201);
      const { token } = (await created.json()) as { token: string };

      const base = `${server.url}/default/controller/v1/gw-1`;
      const device = { Authorization: `GatewayToken ${token}`, Connection: 'close' };
      const poll = async (): Promise<Links> => {
        const res = await fetch(base, { headers: device });
        assert.equal(res.status, 200, await res.clone().text());
        return ((await res.json()) as { _links?: Links })._links ?? {};
      };
      /** Six new connections: three to each worker. */
      const everywhere = async <T>(fn: () => Promise<T>): Promise<T[]> => {
        const out: T[] = [];
        for (let i = 0; i < 6; i++) out.push(await fn());
        return out;
      };
      const feedback = (actionId: string, execution: string, finished: string) =>
        fetch(`${base}/deploymentBase/${actionId}/feedback`, {
          method: 'POST',
          headers: { ...device, 'content-type': 'application/json' },
          body: JSON.stringify({ id: actionId, status: { execution, result: { finished } } }),
        });

      // Registered by the first poll; once written (the write-behind second), both workers hold its state.
      await poll();
      await sleep(1500);
      for (const links of await everywhere(poll)) {
        assert.ok(links.configData, 'configData linked until the device sends it');
        assert.ok(links.deploymentBase);
      }

      const put = await fetch(`${base}/configData`, {
        method: 'PUT',
        headers: { ...device, 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 'merge', data: { board: 'b1' } }),
      });
      assert.equal(put.status, 200, await put.text());
      // The bus relay takes milliseconds; well under the 3 s a stale copy would last.
      await sleep(500);
      for (const [i, links] of (await everywhere(poll)).entries()) {
        assert.equal(links.configData, undefined, `poll ${i} after configData`);
      }

      const href = (await poll()).deploymentBase?.href ?? '';
      const fetched = await fetch(href, { headers: device });
      assert.equal(fetched.status, 200);
      const { id: actionId } = (await fetched.json()) as { id: string };
      await sleep(500);
      // Both workers know the device holds the action: progress is accepted by either (410 from a stale copy).
      for (const [i, res] of (await everywhere(() => feedback(actionId, 'proceeding', 'none'))).entries()) {
        assert.equal(res.status, 200, `feedback ${i}: ${await res.text()}`);
      }

      assert.equal((await feedback(actionId, 'closed', 'success')).status, 200);
      await sleep(500);
      for (const [i, links] of (await everywhere(poll)).entries()) {
        assert.equal(links.deploymentBase, undefined, `poll ${i}: the closed action is not offered again`);
        assert.ok(links.installedBase?.href.endsWith(`/installedBase/${actionId}`), `poll ${i}`);
      }
      for (const [i, res] of (await everywhere(() => feedback(actionId, 'closed', 'success'))).entries()) {
        assert.equal(res.status, 410, `feedback ${i} after closing`);
      }
    } finally {
      await server.stop();
    }
  });
});
