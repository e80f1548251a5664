import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { publishRelease, startTestServer, tempDir, type TestServer } from '../support/server.js';
import {
  buildSwu,
  makeSigner,
  requireSwupdate,
  runSwupdate,
  SWUPDATE_GENERAL,
  type SigningMaterial,
  type SwupdateRun,
} from '../support/swupdate.js';
import { deviceRecord, json, type DeviceView } from './helpers.js';
import { SYSTEM } from '../../src/core/audit/context.js';

/**
 * SWUpdate's suricatta general HTTP server protocol (suricatta/server_general.c), with a swupdate built from
 * Debian's source package with that module (scripts/build-swupdate-general.sh).
 */
describe('SWUpdate general HTTP server protocol', { timeout: 120_000 }, () => {
  let server: TestServer;
  let dir: string;
  let signer: SigningMaterial;
  let binary: string;
  let token: string;
  const running: SwupdateRun[] = [];

  before(async () => {
    binary = requireSwupdate(SWUPDATE_GENERAL);
    server = await startTestServer();
    dir = await tempDir('updraft-swgeneral-');
    signer = await makeSigner(join(dir, 'keys'));
    const res = await server.api('/api/v1/products', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'genp', deviceFamily: 'linux' }),
    });
    assert.equal(res.status, 201);
    const t = await server.api('/api/v1/tokens', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ kind: 'device', product: 'genp', device: 'gen-1' }),
    });
    token = ((await t.json()) as { token: string }).token;
  });
  after(async () => {
    for (const r of running) await r.stop();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const ask = (query: string, headers: Record<string, string> = { 'X-Updraft-Token': token }) =>
    fetch(`${server.url}/swupdate/genp?${query}`, { headers, redirect: 'manual' });

  it('answers 404 without an update, 401 without the token, 400 without a device id', async () => {
    assert.equal((await ask('id=gen-1&version=1.0.0')).status, 404);
    assert.equal((await ask('id=gen-1', {})).status, 401);
    assert.equal(
      (await ask('id=other', { 'X-Updraft-Token': token })).status,
      401,
      'the token is bound to gen-1',
    );
    assert.equal((await ask('board=x')).status, 400);
  });

  it('redirects the real client to the image, which it installs; the log lines become device events', async () => {
    const image = randomBytes(30_000);
    const out = join(dir, 'general.bin');
    await publishRelease(server, 'genp', '1.1.0', {
      'update.swu': await buildSwu(signer, { version: '1.1.0', image, outPath: out }),
    });
    const redirect = await ask('id=gen-1&version=1.0.0');
    assert.equal(redirect.status, 302);
    assert.match(
      redirect.headers.get('location') ?? '',
      /\/swupdate\/genp\/artifacts\/1\.1\.0\/update\.swu\?id=gen-1$/,
    );

    const config = join(dir, 'general.cfg');
    const logUrl = `${server.url}/swupdate/genp/log?id=gen-1`;
    await writeFile(
      config,
      `globals:
{
  public-key-file = "${signer.cert}";
};
identify : (
  { name = "id"; value = "gen-1"; },
  { name = "version"; value = "1.0.0"; },
  { name = "board"; value = "board-a"; }
);
gservice :
{
  url = "${server.url}/swupdate/genp";
  logurl = "${logUrl}";
  polldelay = 1;
  logevent : (
    { event = "started"; format = "date,id,started"; },
    { event = "success"; format = "date,id,success"; },
    { event = "fail"; format = "date,id,fail"; }
  );
};
`,
    );
    const run = await runSwupdate(binary, dir, { config, suricatta: ['-a', 'X-Updraft-Token', token] });
    running.push(run);
    const deadline = Date.now() + 60_000;
    let device: DeviceView | undefined;
    while (Date.now() < deadline) {
      device = await deviceRecord(server, 'gen-1');
      if (device?.version === '1.1.0' || run.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(device?.version, '1.1.0', `not succeeded; swupdate:\n${run.output().slice(-5000)}`);
    assert.deepEqual(await readFile(out), image, 'the rawfile handler wrote the image');
    const events = (device?.history ?? [])
      .filter((e) => e.kind === 'deployment')
      .map((e) => (e.detail ?? '').replace(/^reported /, ''));
    assert.ok(
      events.some((e) => /^downloading: .*started/.test(e)),
      events.join('\n'),
    );
    assert.ok(
      events.some((e) => /^succeeded: .*success/.test(e)),
      events.join('\n'),
    );
    assert.equal(device?.attributes.board, 'board-a', 'identify parameters are device attributes');
    assert.equal(device?.lastOutcome, 'ok');
  });

  it('503 + Retry-After (a deployment outside its window): the real client waits (exact header casing)', async () => {
    const res = await server.api('/api/v1/products', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'genw', settings: { rolloutMode: 'deployments' } }),
    });
    assert.equal(res.status, 201);
    await publishRelease(server, 'genw', '1.0.0', { 'update.swu': randomBytes(100) });
    const t = await server.api('/api/v1/tokens', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ kind: 'device', product: 'genw', device: 'genw-1' }),
    });
    const wToken = ((await t.json()) as { token: string }).token;
    const headers = { 'X-Updraft-Token': wToken };
    const first = await fetch(`${server.url}/swupdate/genw?id=genw-1`, { headers, redirect: 'manual' });
    assert.equal(first.status, 404, 'not targeted yet');
    // Polls are counted by the times the record was last seen: the history keeps one check-in an hour, plus
    // those that report something new (apply-check-in.ts), so it cannot count polls. The test poll's time is
    // taken now, before SWUpdate starts: SWUpdate's first poll may come before the loop below looks.
    const seen = new Set<string>();
    const polls = async () => {
      const lastSeen = (await deviceRecord(server, 'genw-1'))?.lastSeen;
      if (lastSeen) seen.add(lastSeen);
      return seen.size;
    };
    assert.equal(await polls(), 1, 'the test poll is seen');
    await server.services.devices.flush();
    const hhmm = (h: number) => new Date(Date.now() + h * 3600_000).toISOString().slice(11, 16);
    await server.services.deployments.create(SYSTEM, {
      product: 'genw',
      version: '1.0.0',
      devices: ['genw-1'],
      window: { start: hhmm(1), end: hhmm(2), timeZone: 'UTC' },
    });
    const config = join(dir, 'general-503.cfg');
    await writeFile(
      config,
      `globals:\n{\n  public-key-file = "${signer.cert}";\n};\n` +
        `identify : ( { name = "id"; value = "genw-1"; } );\n` +
        `gservice :\n{\n  url = "${server.url}/swupdate/genw";\n  polldelay = 1;\n};\n`,
    );
    const run = await runSwupdate(binary, dir, { config, suricatta: ['-a', 'X-Updraft-Token', wToken] });
    running.push(run);
    // SWUpdate logs the interval only at DEBUG level; what the server sees: one poll, then none for a while
    // (the client's own polldelay is 1 s).
    await run.waitFor(/General Server started/);
    const deadline = Date.now() + 15_000;
    while ((await polls()) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const before = await polls();
    assert.ok(before >= 2, 'the client polled (the test poll and its own)');
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(
      await polls(),
      before,
      `no poll within 4 s of a Retry-After of ~1 h; swupdate:\n${run.output().slice(-2000)}`,
    );
  });
});
