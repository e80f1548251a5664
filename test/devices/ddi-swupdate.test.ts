import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { publishRelease, startTestServer, tempDir, type TestServer } from '../support/server.js';
import {
  buildSwu,
  makeSigner,
  requireSwupdate,
  runSwupdate,
  type SigningMaterial,
  type SwupdateRun,
} from '../support/swupdate.js';
import { deviceRecord, json, type DeviceView } from './helpers.js';
import { SYSTEM } from '../../src/core/audit/context.js';

/**
 * Debian's real SWUpdate (suricatta, hawkBit module) against the real server (specs/device-protocols.md
 * §6.6): poll → deploymentBase → download → feedback, with a signed .swu whose rawfile handler writes a file.
 */
describe('hawkBit DDI with the real SWUpdate', { timeout: 240_000 }, () => {
  let server: TestServer;
  let dir: string;
  let signer: SigningMaterial;
  let config: string;
  let swupdate: string;
  const running: SwupdateRun[] = [];

  before(async () => {
    swupdate = requireSwupdate();
    server = await startTestServer();
    dir = await tempDir('updraft-swupdate-');
    signer = await makeSigner(join(dir, 'keys'));
    config = join(dir, 'swupdate.cfg');
    await writeFile(config, `globals:\n{\n  public-key-file = "${signer.cert}";\n};\n`);
  });
  after(async () => {
    for (const r of running) await r.stop();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function token(product: string, device?: string): Promise<string> {
    const res = await server.api('/api/v1/tokens', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ kind: 'device', product, ...(device ? { device } : {}) }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as { token: string }).token;
  }

  async function start(args: string[], extra: { dryRun?: boolean } = {}): Promise<SwupdateRun> {
    const run = await runSwupdate(swupdate, dir, {
      config,
      suricatta: ['-t', 'default', '-u', server.url, ...args],
      ...extra,
    });
    running.push(run);
    return run;
  }

  /** Waits until the device's record satisfies the check (the admin API flushes pending writes first). */
  async function until(id: string, check: (d: DeviceView) => boolean, what: string, run?: SwupdateRun) {
    const deadline = Date.now() + 60_000;
    let last: DeviceView | undefined;
    while (Date.now() < deadline) {
      last = await deviceRecord(server, id);
      if (last && check(last)) return last;
      if (run && run.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(
      `${what}: device ${JSON.stringify(last, null, 1)}\nswupdate:\n${run?.output().slice(-4000)}`,
    );
  }

  /** What the device reported (`services.updates.reportOutcome` records `reported <outcome>: <detail>`). */
  const feedbacks = (d: DeviceView) =>
    d.history
      .filter((e) => e.kind === 'deployment' && e.detail?.startsWith('reported '))
      .map((e) => (e.detail ?? '').slice('reported '.length));

  async function product(
    name: string,
    ddi: Record<string, unknown> = {},
    settings: Record<string, unknown> = {},
  ) {
    const res = await server.api('/api/v1/products', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        name,
        deviceFamily: 'linux',
        settings: { ddi: { pollingSleep: '00:00:01', ...ddi }, ...settings },
      }),
    });
    assert.equal(res.status, 201, await res.clone().text());
  }

  /**
   * A product in `deployments` rollout mode with one published release and a running deployment of it to
   * `devices`, which are registered first (one poll each: a deployment matches the devices the registry knows).
   */
  async function deployed(
    name: string,
    version: string,
    image: Buffer,
    out: string,
    spec: { devices: string[] } & Record<string, unknown>,
    swu: { badSignature?: boolean } = {},
  ) {
    await product(name, {}, { rolloutMode: 'deployments' });
    await publishRelease(server, name, version, {
      'update.swu': await buildSwu(signer, { version, image, outPath: out, ...swu }),
    });
    const tokens: Record<string, string> = {};
    for (const id of spec.devices) {
      tokens[id] = await token(name, id);
      const poll = await fetch(`${server.url}/default/controller/v1/${id}`, {
        headers: { Authorization: `TargetToken ${tokens[id]}` },
      });
      const body = (await poll.json()) as { _links?: Record<string, unknown> };
      assert.equal(body._links?.deploymentBase, undefined, 'not targeted before the deployment');
    }
    await server.services.devices.flush();
    const d = await server.services.deployments.create(SYSTEM, { product: name, version, ...spec });
    assert.ok('id' in d);
    assert.equal(d.state, 'running');
    return { dep: d, tokens };
  }

  it('installs an update: poll, download, feedback; after the restart closed/success makes it succeed', async () => {
    await product('gw');
    const image = randomBytes(40_000);
    const out = join(dir, 'gw-image.bin');
    await publishRelease(server, 'gw', '1.0.0', {
      'update.swu': await buildSwu(signer, { version: '1.0.0', image, outPath: out }),
    });
    const t = await token('gw', 'gw-1');
    const first = await start(['-i', 'gw-1', '-k', t]);
    const device = await until(
      'gw-1',
      (d) => feedbacks(d).some((f) => f.includes('All Chunks Installed')),
      'installed',
      first,
    );
    assert.deepEqual(await readFile(out), image, 'the rawfile handler wrote the artifact');
    assert.ok(
      device.history.some((e) => e.kind === 'download-completed'),
      'the download was recorded',
    );
    assert.ok(
      feedbacks(device).every((f) => f.startsWith('downloading: proceeding')),
      feedbacks(device).join('\n'),
    );
    assert.equal(device.version, null, 'not succeeded before the device confirms');
    await first.stop();

    const second = await start(['-i', 'gw-1', '-k', t, '-c', '2']);
    const done = await until('gw-1', (d) => d.version === '1.0.0', 'succeeded', second);
    assert.ok(
      feedbacks(done).some((f) => f.startsWith('succeeded: closed/success')),
      feedbacks(done).join('\n'),
    );
    assert.equal(done.lastOutcome, 'ok');
    assert.equal(done.attributes['ddi-action'], '');
    await second.stop();

    // Up to date now: the poll links installedBase and no deploymentBase.
    const poll = await fetch(`${server.url}/default/controller/v1/gw-1`, {
      headers: { Authorization: `TargetToken ${t}` },
    });
    const body = (await poll.json()) as { _links: Record<string, { href: string }> };
    assert.equal(body._links.deploymentBase, undefined);
    assert.match(body._links.installedBase?.href ?? '', /\/installedBase\/\d+$/);
  });

  it('reports a bad signature as closed/failure and does not offer the same action again', async () => {
    await product('bad');
    const out = join(dir, 'bad-image.bin');
    await publishRelease(server, 'bad', '1.0.0', {
      'update.swu': await buildSwu(signer, {
        version: '1.0.0',
        image: randomBytes(1000),
        outPath: out,
        badSignature: true,
      }),
    });
    const t = await token('bad', 'bad-1');
    const run = await start(['-i', 'bad-1', '-k', t]);
    const d = await until(
      'bad-1',
      (x) => feedbacks(x).some((f) => f.startsWith('failed: closed/failure')),
      'failed',
      run,
    );
    assert.equal(existsSync(out), false, 'nothing was written');
    assert.equal(d.version, null);
    const poll = await fetch(`${server.url}/default/controller/v1/bad-1`, {
      headers: { Authorization: `TargetToken ${t}` },
    });
    const body = (await poll.json()) as { _links?: Record<string, unknown> };
    assert.equal(body._links?.deploymentBase, undefined, 'a closed action is not offered again');
  });

  it('skip (deployment option ddi.update=skip): "Skipped Update.", nothing installed, downloaded in the deployment', async () => {
    const out = join(dir, 'skip-image.bin');
    const { dep, tokens } = await deployed('skipper', '1.0.0', randomBytes(1000), out, {
      devices: ['skip-1'],
      options: { 'ddi.update': 'skip' },
    });
    const t = tokens['skip-1'] as string;
    const run = await start(['-i', 'skip-1', '-k', t]);
    const d = await until(
      'skip-1',
      (x) => feedbacks(x).some((f) => f.includes('Skipped Update')),
      'skipped',
      run,
    );
    assert.ok(
      feedbacks(d).some((f) => f.startsWith('downloaded: closed/success')),
      feedbacks(d).join('\n'),
    );
    assert.equal(existsSync(out), false);
    assert.equal(d.version, null, 'a skipped update is not an installed one');
    assert.equal((await server.services.deployments.deviceState(dep.id, 'skip-1'))?.state, 'downloaded');
  });

  it('in a deployment: install, then closed/success after the restart; the device succeeded in it', async () => {
    const image = randomBytes(20_000);
    const out = join(dir, 'dep-image.bin');
    const { dep, tokens } = await deployed('dp', '1.0.0', image, out, { devices: ['dp-1'] });
    const t = tokens['dp-1'] as string;
    const first = await start(['-i', 'dp-1', '-k', t]);
    await until(
      'dp-1',
      (d) => feedbacks(d).some((f) => f.includes('All Chunks Installed')),
      'installed',
      first,
    );
    assert.deepEqual(await readFile(out), image);
    await first.stop();
    assert.notEqual((await server.services.deployments.deviceState(dep.id, 'dp-1'))?.state, 'succeeded');
    const second = await start(['-i', 'dp-1', '-k', t, '-c', '2']);
    await until('dp-1', (d) => d.version === '1.0.0', 'succeeded', second);
    assert.equal((await server.services.deployments.deviceState(dep.id, 'dp-1'))?.state, 'succeeded');
    assert.equal((await server.services.deployments.get(dep.id))?.counts.succeeded, 1);
  });

  it('a cancelled deployment cancels the action the device holds; the real client acknowledges it', async () => {
    const { dep, tokens } = await deployed('dc', '1.0.0', randomBytes(1000), join(dir, 'dc.bin'), {
      devices: ['dc-1'],
    });
    const t = tokens['dc-1'] as string;
    const auth = { Authorization: `TargetToken ${t}` };
    const poll = (await (
      await fetch(`${server.url}/default/controller/v1/dc-1`, { headers: auth })
    ).json()) as {
      _links: Record<string, { href: string }>;
    };
    assert.equal((await fetch(poll._links.deploymentBase?.href ?? '', { headers: auth })).status, 200);
    await server.services.deployments.cancel(SYSTEM, dep.id);
    const run = await start(['-i', 'dc-1', '-k', t]);
    const d = await until(
      'dc-1',
      (x) => feedbacks(x).some((f) => f.startsWith('cancel-acknowledged')),
      'cancelled',
      run,
    );
    assert.equal(d.attributes['ddi-action'], '');
    assert.equal(existsSync(join(dir, 'dc.bin')), false);
  });

  it('a deployment halted by a failure offers no new action', async () => {
    const { dep, tokens } = await deployed(
      'hp',
      '1.0.0',
      randomBytes(1000),
      join(dir, 'hp.bin'),
      {
        devices: ['hp-1', 'hp-2'],
        maxFailures: 0,
        minFinal: 1,
      },
      { badSignature: true },
    );
    const t1 = tokens['hp-1'] as string;
    const bad = await start(['-i', 'hp-1', '-k', t1]);
    await until(
      'hp-1',
      (x) => feedbacks(x).some((f) => f.startsWith('failed: closed/failure')),
      'failed',
      bad,
    );
    await bad.stop();
    await server.services.deployments.tick(new Date());
    const halted = await server.services.deployments.get(dep.id);
    assert.equal(halted?.state, 'paused', JSON.stringify(halted));
    assert.ok(halted?.haltReason);

    const t2 = tokens['hp-2'] as string;
    const second = await start(['-i', 'hp-2', '-k', t2]);
    await second.waitFor(/Suricatta awakened|No pending action|polling/i);
    // Several polls at the one-second sleep: still nothing to do.
    await new Promise((r) => setTimeout(r, 3500));
    const d = await until('hp-2', (x) => x.attributes['last-decision'] === 'not-now', 'not now', second);
    assert.deepEqual(feedbacks(d), [], 'no action was started');
    assert.doesNotMatch(second.output(), /deploymentBase/);
  });

  it('a device with a GatewayToken registers itself and updates', async () => {
    await product('fleet');
    const image = randomBytes(5000);
    const out = join(dir, 'fleet-image.bin');
    await publishRelease(server, 'fleet', '2.0.0', {
      'update.swu': await buildSwu(signer, { version: '2.0.0', image, outPath: out }),
    });
    const gateway = await token('fleet');
    assert.equal(await deviceRecord(server, 'fleet-new-7'), undefined);
    const run = await start(['-i', 'fleet-new-7', '-g', gateway]);
    const d = await until(
      'fleet-new-7',
      (x) => feedbacks(x).some((f) => f.includes('All Chunks Installed')),
      'installed',
      run,
    );
    assert.equal(d.product, 'fleet');
    assert.equal(d.protocol, 'ddi');
    assert.deepEqual(await readFile(out), image);
  });

  it('an action the device holds is cancelled when its release is revoked, and the cancel is acknowledged', async () => {
    await product('canc');
    await publishRelease(server, 'canc', '1.0.0', {
      'update.swu': await buildSwu(signer, {
        version: '1.0.0',
        image: randomBytes(1000),
        outPath: join(dir, 'c.bin'),
      }),
    });
    const t = await token('canc', 'canc-1');
    const auth = { Authorization: `TargetToken ${t}` };
    // An earlier life of the device fetched the action, then the operator revoked the release.
    const poll = (await (
      await fetch(`${server.url}/default/controller/v1/canc-1`, { headers: auth })
    ).json()) as {
      _links: Record<string, { href: string }>;
    };
    const base = await fetch(poll._links.deploymentBase?.href ?? '', { headers: auth });
    assert.equal(base.status, 200);
    const revoked = await server.api('/api/v1/products/canc/releases/1.0.0/revoke', { method: 'POST' });
    assert.equal(revoked.status, 200, await revoked.clone().text());
    const run = await start(['-i', 'canc-1', '-k', t]);
    const d = await until(
      'canc-1',
      (x) => feedbacks(x).some((f) => f.startsWith('cancel-acknowledged')),
      'cancelled',
      run,
    );
    assert.equal(d.attributes['ddi-action'], '');
    assert.equal(existsSync(join(dir, 'c.bin')), false);
  });
});
