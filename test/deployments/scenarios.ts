import { afterEach, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { rm } from 'node:fs/promises';
import {
  ADMIN_TOKEN,
  publishRelease,
  spawnServer,
  startTestServer,
  tempDir,
  type TestServer,
} from '../support/server.js';
import { httpRequest } from '../support/raw-http.js';
import { espImage } from '../devices/helpers.js';
import { positionOf } from '../../src/core/deployments/waves.js';
import { device, poll, round, sleep, type SimDevice } from './fleet.js';

/** Where the server keeps its metadata: SQLite in the data folder, or a fresh PostgreSQL schema. */
export type DatabaseFactory = () => Promise<string | undefined>;

interface Api {
  (path: string, init?: RequestInit): Promise<Response>;
}

const jsonHeaders = { 'content-type': 'application/json' };

export interface DeploymentView {
  id: string;
  state: string;
  currentWave: number;
  haltReason?: string;
  counts: Record<string, number>;
  total: number;
  waves: { spec: string; counts: Record<string, number>; total: number }[];
}

async function call<T>(api: Api, path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST') {
  const res = await api(path, {
    method,
    headers: body === undefined ? {} : jsonHeaders,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

const show = (api: Api, id: string) => call<DeploymentView>(api, `/api/v1/deployments/${id}`);
const events = async (api: Api, id: string) =>
  (
    await call<{ items: { id: number; deviceId: string | null; kind: string; detail: string | null }[] }>(
      api,
      `/api/v1/deployments/${id}/events?limit=1000`,
    )
  ).items;

/** Reads the deployment until it satisfies `ok` (writes that follow a download land just after it). */
async function waitFor(api: Api, id: string, ok: (d: DeploymentView) => boolean, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const d = await show(api, id);
    if (ok(d) || Date.now() > deadline) return d;
    await sleep(20);
  }
}

/** Polls the fleet until the deployment satisfies `done` (or the time is up). */
async function driveUntil(
  api: Api,
  port: number,
  id: string,
  fleet: SimDevice[],
  done: (d: DeploymentView) => boolean,
  ms = 40_000,
): Promise<DeploymentView> {
  const deadline = Date.now() + ms;
  for (;;) {
    const d = await show(api, id);
    if (done(d)) return d;
    if (Date.now() > deadline) throw new Error(`deployment ${id} stuck: ${JSON.stringify(d)}`);
    await round(port, fleet);
    await sleep(60);
  }
}

/** The ids of the `n` devices a deployment places first (smallest stable hash): its first wave of `n`. */
const firstByHash = (id: string, fleet: SimDevice[], n: number) =>
  new Set(
    [...fleet]
      .sort((a, b) => positionOf(id, a.id) - positionOf(id, b.id))
      .slice(0, n)
      .map((d) => d.id),
  );

async function setup(server: TestServer, product: string, versions: string[], family = 'esp8266') {
  for (const v of versions) {
    const name = family === 'esp-at' ? 'ota.bin' : 'firmware.bin';
    await publishRelease(server, product, v, { [name]: espImage(4000, v.length) }, { deviceFamily: family });
  }
  await call(server.api, `/api/v1/products/${product}/rollout-mode`, { rolloutMode: 'deployments' }, 'PUT');
}

async function tag(api: Api, fleet: SimDevice[], tags: string[]) {
  for (const d of fleet) await call(api, `/api/v1/devices/${encodeURIComponent(d.id)}/tags`, { tags }, 'PUT');
}

/** Registers the devices (one poll each: nothing is offered in `deployments` mode without a deployment). */
async function register(port: number, fleet: SimDevice[]) {
  await round(port, fleet);
  for (const d of fleet)
    assert.deepEqual(d.served, [], `${d.id} was offered something before any deployment`);
}

/** The eight scenarios of issue 10 against one database kind. */
export function deploymentScenarios(database: DatabaseFactory, only: readonly number[]): void {
  const scenario = (n: number, name: string, fn: () => Promise<void>) => {
    if (only.includes(n)) it(name, fn);
  };
  const servers: TestServer[] = [];
  // Each scenario's servers stop when it ends: before the file's `after` hooks drop its PostgreSQL schemas, which
  // a server still flushing device records would otherwise write into.
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  async function server(): Promise<TestServer> {
    const databaseUrl = await database();
    const s = await startTestServer({ deploymentTickMs: 100, ...(databaseUrl ? { databaseUrl } : {}) });
    servers.push(s);
    return s;
  }

  scenario(
    1,
    '1. three waves open one after another over ESP8266, simple polling and ESP-AT; nobody outside the target is offered anything',
    async () => {
      const s = await server();
      const port = s.httpPort;
      await setup(s, 'sensor', ['1.0.0', '2.0.0']);
      await setup(s, 'poller', ['1.0.0', '2.0.0'], 'simple-polling');
      await setup(s, 'atmod', ['1.0.0', '2.0.0'], 'esp-at');
      const fleet = Array.from({ length: 30 }, (_, i) => device(i, { product: 'sensor', version: '1.0.0' }));
      const outsiders = Array.from({ length: 5 }, (_, i) =>
        device(100 + i, { product: 'sensor', version: '1.0.0' }),
      );
      const pollers = Array.from({ length: 6 }, (_, i) =>
        device(200 + i, { product: 'poller', version: '1.0.0', protocol: 'polling' }),
      );
      const modules: SimDevice[] = [];
      for (let i = 0; i < 4; i++) {
        const created = await call<{ token: string }>(s.api, '/api/v1/tokens', {
          kind: 'device',
          name: `module-${i}`,
          product: 'atmod',
          device: `module-${i}`,
        });
        modules.push(
          device(300 + i, {
            product: 'atmod',
            version: '1.0.0',
            protocol: 'esp-at',
            token: created.token,
            id: `module-${i}`,
          }),
        );
      }
      await tag(s.api, fleet, ['fleet']);
      await register(port, [...fleet, ...outsiders, ...pollers, ...modules]);

      const dry = await call<{ matched: number; waves: { size: number }[] }>(s.api, '/api/v1/deployments', {
        product: 'sensor',
        version: '2.0.0',
        filter: 'tag=fleet',
        waves: ['3', '10', '30'],
        dryRun: true,
      });
      assert.deepEqual(dry, {
        matched: 30,
        waves: [
          { spec: '3', size: 3 },
          { spec: '10', size: 7 },
          { spec: '30', size: 20 },
        ],
      });
      assert.equal(
        (await call<{ items: unknown[] }>(s.api, '/api/v1/deployments')).items.length,
        0,
        'a dry run writes nothing',
      );

      const created = await call<DeploymentView>(s.api, '/api/v1/deployments', {
        product: 'sensor',
        version: '2.0.0',
        filter: 'tag=fleet',
        waves: ['3', '10', '30'],
        soakSeconds: 1,
        successPercent: 100,
      });
      const poll2 = await call<DeploymentView>(s.api, '/api/v1/deployments', {
        product: 'poller',
        version: '2.0.0',
        waves: ['50%', '100%'],
      });
      const at = await call<DeploymentView>(s.api, '/api/v1/deployments', {
        product: 'atmod',
        version: '2.0.0',
      });
      assert.equal(created.state, 'running');
      assert.equal(created.total, 30);

      const everyone = [...fleet, ...outsiders, ...pollers, ...modules];
      // Wave 1 alone first: exactly its 3 devices are served.
      await round(port, everyone);
      assert.equal(fleet.filter((d) => d.served.length > 0).length, 3);
      const canary = firstByHash(created.id, fleet, 3);
      for (const d of fleet) assert.equal(d.served.length > 0, canary.has(d.id), `${d.id} in the canary`);

      const done = await driveUntil(s.api, port, created.id, everyone, (d) => d.state === 'completed');
      assert.equal(done.counts.succeeded, 30);
      assert.deepEqual(
        done.waves.map((w) => [w.total, w.counts.succeeded]),
        [
          [3, 3],
          [7, 7],
          [20, 20],
        ],
      );
      for (const d of fleet) assert.deepEqual(d.served, ['2.0.0']);
      for (const d of outsiders) assert.deepEqual(d.served, [], `${d.id} is outside the target`);

      // Every device was offered only after its wave opened, and waves opened only after the one before passed.
      const log = await events(s.api, created.id);
      const opened = log.filter((e) => e.kind === 'wave-opened').map((e) => e.id);
      const passed = log.filter((e) => e.kind === 'wave-passed').map((e) => e.id);
      assert.equal(opened.length, 3);
      assert.ok(
        (opened[1] as number) > (passed[0] as number) && (opened[2] as number) > (passed[1] as number),
      );
      const byWave = [firstByHash(created.id, fleet, 3), firstByHash(created.id, fleet, 10)];
      for (const e of log.filter((x) => x.kind === 'offered')) {
        const wave = byWave[0]?.has(e.deviceId as string) ? 0 : byWave[1]?.has(e.deviceId as string) ? 1 : 2;
        assert.ok(e.id > (opened[wave] as number), `${e.deviceId} offered before wave ${wave + 1} opened`);
      }

      const polled = await driveUntil(s.api, port, poll2.id, everyone, (d) => d.state === 'completed');
      assert.equal(polled.counts.succeeded, 6);
      for (const d of pollers) assert.equal(d.version, '2.0.0');
      const atDone = await driveUntil(s.api, port, at.id, everyone, (d) => d.state === 'completed');
      assert.equal(atDone.counts.succeeded, 4);
      const m = await call<{ state: string; reason?: string }>(
        s.api,
        `/api/v1/deployments/${at.id}/devices/module-0`,
      );
      assert.equal(m.state, 'succeeded');
      assert.match(m.reason ?? '', /download completed \(esp-at reports no version/);
    },
  );

  scenario(
    2,
    '2. devices falling back after the download halt the deployment in its first wave; later waves get nothing',
    async () => {
      const s = await server();
      const port = s.httpPort;
      await setup(s, 'sensor', ['1.0.0', '2.0.0']);
      const fleet = Array.from({ length: 40 }, (_, i) => device(i, { product: 'sensor', version: '1.0.0' }));
      await register(port, fleet);
      const d = await call<DeploymentView>(s.api, '/api/v1/deployments', {
        product: 'sensor',
        version: '2.0.0',
        waves: ['10', '40'],
        soakSeconds: 1,
        maxFailures: '20%',
        minFinal: 10,
      });
      const first = firstByHash(d.id, fleet, 10);
      for (const dev of fleet.filter((x) => first.has(x.id)).slice(0, 4)) dev.behaviour = 'fallback';

      const halted = await driveUntil(s.api, port, d.id, fleet, (x) => x.state === 'paused');
      assert.equal(halted.currentWave, 0);
      assert.match(
        halted.haltReason ?? '',
        /halted in wave 1: 4 of 10 devices in a final state failed \(4 failed, 0 timed out; 6 succeeded\), threshold 20%/,
      );
      assert.equal(halted.counts.failed, 4);
      for (const dev of fleet)
        if (!first.has(dev.id)) assert.deepEqual(dev.served, [], `${dev.id} is in wave 2`);
      // Halted means no new offers, however often they poll.
      await round(port, fleet);
      await round(port, fleet);
      for (const dev of fleet) if (!first.has(dev.id)) assert.deepEqual(dev.served, []);
      const failed = await call<{ state: string; reason: string }>(
        s.api,
        `/api/v1/deployments/${d.id}/devices/${encodeURIComponent([...fleet].find((x) => x.behaviour === 'fallback')?.id ?? '')}`,
      );
      assert.equal(failed.state, 'failed');
      assert.match(failed.reason, /fell back: reports 1.0.0 after downloading 2.0.0/);
    },
  );

  scenario(3, '3. devices that never come back time out and trip the threshold', async () => {
    const s = await server();
    const port = s.httpPort;
    await setup(s, 'sensor', ['1.0.0', '2.0.0']);
    const fleet = Array.from({ length: 20 }, (_, i) =>
      device(i, { product: 'sensor', version: '1.0.0', behaviour: i < 5 ? 'gone' : 'ok' }),
    );
    await register(port, fleet);
    const d = await call<DeploymentView>(s.api, '/api/v1/deployments', {
      product: 'sensor',
      version: '2.0.0',
      timeoutSeconds: 2,
      maxFailures: '10%',
      minFinal: 20,
    });
    const halted = await driveUntil(s.api, port, d.id, fleet, (x) => x.state === 'paused');
    assert.equal(halted.counts['timed-out'], 5);
    assert.equal(halted.counts.succeeded, 15);
    assert.match(
      halted.haltReason ?? '',
      /5 of 20 devices in a final state failed \(0 failed, 5 timed out; 15 succeeded\)/,
    );
  });

  scenario(
    4,
    '4. the rate and the concurrent-download caps are never exceeded, measured at the server',
    async () => {
      const s = await server();
      const port = s.httpPort;
      await setup(s, 'sensor', ['1.0.0', '2.0.0']);
      await publishRelease(
        s,
        'big',
        '1.0.0',
        { 'firmware.bin': espImage(1000, 1) },
        { deviceFamily: 'esp8266' },
      );
      // Larger than what loopback socket buffers absorb, so a download stays in flight while its reader pauses.
      await publishRelease(s, 'big', '2.0.0', { 'firmware.bin': espImage(12_000_000, 2) });
      await call(s.api, '/api/v1/products/big/rollout-mode', { rolloutMode: 'deployments' }, 'PUT');

      // The server's own view of downloads in flight, per product.
      let inFlight = 0;
      let maxInFlight = 0;
      const offers: number[] = [];
      const updates = s.services.updates;
      const record = updates.recordDownload.bind(updates);
      updates.recordDownload = (deviceId, release, stage, detail) => {
        if (release.product === 'big') {
          if (stage === 'started') maxInFlight = Math.max(maxInFlight, ++inFlight);
          else inFlight--;
        } else if (stage === 'started') offers.push(Date.now());
        record(deviceId, release, stage, detail);
      };

      const fleet = Array.from({ length: 20 }, (_, i) => device(i, { product: 'sensor', version: '1.0.0' }));
      await register(port, fleet);
      const rated = await call<DeploymentView>(s.api, '/api/v1/deployments', {
        product: 'sensor',
        version: '2.0.0',
        ratePerMinute: 5,
      });
      for (let i = 0; i < 10; i++) {
        await round(port, fleet);
        await sleep(100);
      }
      assert.equal(offers.length, 5, 'five offers in the first minute, however often the fleet polls');
      assert.equal(fleet.filter((x) => x.served.length > 0).length, 5);
      const after = await show(s.api, rated.id);
      assert.equal(after.counts.pending, 15);

      const big = Array.from({ length: 12 }, (_, i) => device(500 + i, { product: 'big', version: '1.0.0' }));
      await register(port, big);
      const capped = await call<DeploymentView>(s.api, '/api/v1/deployments', {
        product: 'big',
        version: '2.0.0',
        maxDownloads: 2,
      });
      // Every device polls at once and reads its image slowly, so downloads overlap as much as the cap lets them.
      const deadline = Date.now() + 20_000;
      while (big.some((x) => x.version !== '2.0.0') && Date.now() < deadline) {
        await Promise.all(big.map((x) => slowPoll(port, x)));
      }
      assert.ok(
        big.every((x) => x.version === '2.0.0'),
        'every capped device got the image in the end',
      );
      assert.equal(maxInFlight, 2, 'never more than two downloads at once, and the cap was reached');
      const done = await driveUntil(s.api, port, capped.id, big, (x) => x.state === 'completed');
      assert.equal(done.counts.succeeded, 12);
    },
  );

  scenario(
    5,
    '5. rollback offers each device that installed the release exactly the one it ran before, and nobody else',
    async () => {
      const s = await server();
      const port = s.httpPort;
      await setup(s, 'sensor', ['1.0.0', '1.1.0', '2.0.0']);
      const fleet = Array.from({ length: 30 }, (_, i) =>
        device(i, {
          product: 'sensor',
          version: i % 2 ? '1.1.0' : '1.0.0',
          behaviour: i < 5 ? 'fallback' : 'ok',
        }),
      );
      const outsider = device(99, { product: 'sensor', version: '1.0.0' });
      await tag(s.api, fleet, ['fleet']);
      await register(port, [...fleet, outsider]);
      const d = await call<DeploymentView>(s.api, '/api/v1/deployments', {
        product: 'sensor',
        version: '2.0.0',
        groups: [],
        filter: 'tag=fleet',
        maxFailures: '10%',
        minFinal: 30,
        rollback: true,
      });
      const rolled = await driveUntil(
        s.api,
        port,
        d.id,
        [...fleet, outsider],
        (x) => x.state === 'rolled-back',
      );
      assert.match(
        rolled.haltReason ?? '',
        /5 of 30 devices in a final state failed \(5 failed, 0 timed out; 25 succeeded\)/,
      );
      for (let i = 0; i < 3; i++) await round(port, [...fleet, outsider]);
      fleet.forEach((dev, i) => {
        const before = i % 2 ? '1.1.0' : '1.0.0';
        if (dev.behaviour === 'fallback')
          assert.deepEqual(dev.served, ['2.0.0'], `${dev.id} fell back: no rollback`);
        else assert.deepEqual(dev.served, ['2.0.0', before], `${dev.id} is offered what it ran before`);
        assert.equal(dev.version, before);
      });
      assert.deepEqual(outsider.served, []);
    },
  );

  scenario(
    6,
    '6. a device that joins a dynamic group mid-rollout is placed by its hash; <2.0.0 excludes a device at 2.1.0',
    async () => {
      const s = await server();
      const port = s.httpPort;
      await setup(s, 'sensor', ['1.0.0', '1.5.0', '2.1.0', '2.2.0']);
      const fleet = Array.from({ length: 10 }, (_, i) => device(i, { product: 'sensor', version: '1.0.0' }));
      const newer = device(50, { product: 'sensor', version: '2.1.0' });
      const untagged = device(51, { product: 'sensor', version: '1.0.0' });
      await tag(s.api, [...fleet, newer], ['field']);
      await register(port, [...fleet, newer, untagged]);
      await call(s.api, '/api/v1/groups', { name: 'old-field', filter: 'version=<2.0.0 tag=field' });
      const d = await call<DeploymentView>(s.api, '/api/v1/deployments', {
        product: 'sensor',
        version: '2.2.0',
        groups: ['old-field'],
        waves: ['50%', '100%'],
        soakSeconds: 1,
      });
      assert.equal(d.total, 10, 'the 2.1.0 device is not in the group');
      await round(port, [...fleet, newer, untagged]);
      // A device never seen before, tagged and at 1.5.0, joins the group now.
      const late = device(60, { product: 'sensor', version: '1.5.0' });
      await tag(s.api, [late], ['field']);
      const expectedWave = positionOf(d.id, late.id) < 0.5 ? 0 : 1;
      const all = [...fleet, newer, untagged, late];
      const done = await driveUntil(
        s.api,
        port,
        d.id,
        all,
        (x) => x.state === 'completed' && late.version === '2.2.0',
      );
      const state = await call<{ wave: number; state: string; previousVersion: string }>(
        s.api,
        `/api/v1/deployments/${d.id}/devices/${encodeURIComponent(late.id)}`,
      );
      assert.equal(state.wave, expectedWave);
      assert.equal(state.previousVersion, '1.5.0');
      assert.equal(done.total, 11);
      assert.deepEqual(newer.served, [], 'a device at 2.1.0 is outside <2.0.0');
      assert.deepEqual(untagged.served, []);
      for (const dev of fleet) assert.deepEqual(dev.served, ['2.2.0']);
    },
  );

  scenario(
    7,
    '7. killed with -9 mid-rollout and restarted: state and counts intact, and the rollout goes on',
    async () => {
      const dataDir = await tempDir();
      const databaseUrl = await database();
      const args = databaseUrl ? ['--database-url', databaseUrl] : [];
      const env = { UPDRAFT_DEPLOYMENT_TICK_MS: '100', UPDRAFT_LOG_LEVEL: 'warn' };
      let proc = await spawnServer(dataDir, args, env);
      try {
        const api: Api = (path, init = {}) =>
          fetch(`${proc.url}${path}`, {
            ...init,
            headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.headers as Record<string, string>) },
          });
        const fake = { api, url: proc.url } as unknown as TestServer;
        await setup(fake, 'sensor', ['1.0.0', '2.0.0']);
        const fleet = Array.from({ length: 20 }, (_, i) =>
          device(i, { product: 'sensor', version: '1.0.0' }),
        );
        await register(proc.port, fleet);
        const d = await call<DeploymentView>(api, '/api/v1/deployments', {
          product: 'sensor',
          version: '2.0.0',
          waves: ['5', '20'],
        });
        const first = firstByHash(d.id, fleet, 5);
        await driveUntil(
          api,
          proc.port,
          d.id,
          fleet.filter((x) => first.has(x.id)),
          (x) => x.currentWave === 1,
        );
        // Mid-wave 2: five of its devices succeed, three have downloaded but not yet rebooted, seven wait.
        const second = fleet.filter((x) => x.served.length === 0);
        for (const x of second.slice(0, 5)) {
          await poll(proc.port, x);
          await poll(proc.port, x);
        }
        for (const x of second.slice(5, 8)) await poll(proc.port, x);
        // `downloaded` is recorded when the server's last write ends, just after the device has read it.
        const before = await waitFor(api, d.id, (x) => x.counts.downloaded === 3);
        assert.equal(before.state, 'running');
        assert.deepEqual(
          [before.counts.succeeded, before.counts.downloaded, before.counts.pending],
          [10, 3, 7],
        );
        await proc.stop('SIGKILL');

        proc = await spawnServer(dataDir, args, env);
        const restarted = await show(api, d.id);
        assert.equal(restarted.state, 'running');
        assert.equal(restarted.currentWave, 1);
        assert.deepEqual(restarted.counts, before.counts);
        assert.deepEqual(restarted.waves, before.waves);
        const done = await driveUntil(api, proc.port, d.id, fleet, (x) => x.state === 'completed');
        assert.equal(done.counts.succeeded, 20);
        for (const x of fleet) assert.deepEqual(x.served, ['2.0.0'], `${x.id} was served once`);
      } finally {
        await proc.stop('SIGKILL');
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );

  scenario(
    8,
    '8. a product in immediate mode behaves as before: the newest release for every device, deployments or not',
    async () => {
      const s = await server();
      const port = s.httpPort;
      await publishRelease(
        s,
        'plain',
        '1.0.0',
        { 'firmware.bin': espImage(3000, 1) },
        { deviceFamily: 'esp8266' },
      );
      await publishRelease(s, 'plain', '1.1.0', { 'firmware.bin': espImage(3000, 2) });
      const a = device(1, { product: 'plain', version: '1.0.0' });
      const b = device(2, { product: 'plain', version: '1.0.0' });
      assert.equal(await poll(port, a), 'updated');
      assert.deepEqual(a.served, ['1.1.0']);
      assert.equal(await poll(port, a), 'none');
      // A deployment of 1.1.0 to a tag does not stop untargeted devices in immediate mode.
      await publishRelease(s, 'plain', '1.2.0', { 'firmware.bin': espImage(3000, 3) });
      await tag(s.api, [a], ['beta']);
      await call(s.api, '/api/v1/deployments', { product: 'plain', version: '1.2.0', filter: 'tag=beta' });
      assert.equal(await poll(port, b), 'updated');
      assert.deepEqual(b.served, ['1.2.0']);
    },
  );
}

/** ESP8266 check-in whose reader pauses before taking the body: downloads in flight pile up at the server. */
async function slowPoll(port: number, d: SimDevice): Promise<void> {
  const request = httpRequest([
    `GET /${d.product} HTTP/1.0`,
    `Host: 127.0.0.1:${port}`,
    'User-Agent: ESP8266-http-Update',
    'Connection: close',
    'x-ESP8266-Chip-ID: 15602487',
    `x-ESP8266-STA-MAC: ${d.mac}`,
    `x-ESP8266-AP-MAC: ${d.mac}`,
    'x-ESP8266-free-space: 16777216',
    'x-ESP8266-sketch-size: 400000',
    'x-ESP8266-sketch-md5: 00112233445566778899aabbccddeeff',
    'x-ESP8266-chip-size: 4194304',
    'x-ESP8266-sdk-version: 2.5.0',
    'x-ESP8266-mode: sketch',
    `x-ESP8266-version: ${d.version}`,
    'Content-Length: 0',
  ]);
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let paused = false;
    socket.on('connect', () => socket.write(request));
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (!paused) {
        paused = true;
        socket.pause();
        setTimeout(() => socket.resume(), 400);
      }
    });
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
  const head = raw.subarray(0, raw.indexOf('\r\n\r\n')).toString('latin1');
  const status = Number(head.split(' ')[1]);
  if (status === 200) {
    const version = /\r\nx-version: *(\S+)/i.exec(head)?.[1] ?? '';
    d.served.push(version);
    d.version = version;
  } else if (status !== 304) throw new Error(`slow poll: ${head.split('\r\n')[0]}`);
}
