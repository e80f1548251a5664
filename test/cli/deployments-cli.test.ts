import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { registerDevices } from '../../src/cli/commands/devices.js';
import { registerDeployments } from '../../src/cli/commands/deployments.js';
import { ADMIN_TOKEN, publishRelease, startTestServer, type TestServer } from '../support/server.js';
import { espImage } from '../devices/helpers.js';
import { device, round } from '../deployments/fleet.js';

describe('updraft deploy / deployments / groups / devices tag / products set', () => {
  let server: TestServer;
  /**
   * The commands run in this process (a process per command costs seconds of start-up on a busy machine):
   * the same commander program main.ts builds, against the real server, stdout captured.
   */
  let capturing = Promise.resolve();
  const cli = (args: string[]): Promise<{ stdout: string }> => {
    const run = capturing.then(async () => {
      const program = new Command('updraft').enablePositionalOptions().exitOverride();
      registerDevices(program);
      registerDeployments(program);
      let stdout = '';
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string | Uint8Array) => {
        stdout += chunk.toString();
        return true;
      }) as typeof process.stdout.write;
      try {
        await program.parseAsync([
          'node',
          'updraft',
          ...args,
          '--server',
          server.url,
          '--token',
          ADMIN_TOKEN,
        ]);
      } finally {
        process.stdout.write = write;
      }
      return { stdout };
    });
    capturing = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  };
  const fails = async (args: string[], message: RegExp) => {
    await assert.rejects(cli(args), (err: Error) => {
      assert.match(err.message, message);
      return true;
    });
  };

  before(async () => {
    server = await startTestServer({ deploymentTickMs: 100 });
    await publishRelease(
      server,
      'sensor',
      '1.0.0',
      { 'firmware.bin': espImage(2000, 1) },
      { deviceFamily: 'esp8266' },
    );
    await publishRelease(server, 'sensor', '2.0.0', { 'firmware.bin': espImage(2000, 2) });
  });
  after(() => server.close());

  it('drives a rollout from the command line, exactly as docs/deployments.md shows', async () => {
    const fleet = Array.from({ length: 12 }, (_, i) => device(i, { product: 'sensor', version: '1.0.0' }));
    const mode = await cli(['products', 'set', 'sensor', '--rollout-mode', 'deployments']);
    assert.match(mode.stdout, /sensor: rollout mode deployments/);
    await round(server.httpPort, fleet);
    assert.ok(
      fleet.every((d) => d.served.length === 0),
      'deployments mode: nothing without a deployment',
    );
    for (const d of fleet.slice(1, 8)) {
      const res = await server.api(`/api/v1/devices/${d.id}/tags`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tags: ['lab'] }),
      });
      assert.equal(res.status, 200);
    }
    const [tagged, group] = await Promise.all([
      cli(['devices', 'tag', fleet[0]?.mac ?? '', 'lab', 'eu']),
      cli(['groups', 'create', 'lab', '--filter', 'tag=lab version=<2.0.0']),
    ]);
    assert.match(tagged.stdout, /02:10:00:00:00:00: eu lab/);
    assert.match(group.stdout, /group lab \(dynamic\) created/);
    const [untagged, groups, dry] = await Promise.all([
      cli(['devices', 'untag', fleet[0]?.mac ?? '', 'eu']),
      cli(['groups', 'list']),
      cli(['deploy', 'sensor', '2.0.0', '--to', 'lab', '--waves', '2,8', '--dry-run']),
    ]);
    assert.match(untagged.stdout, /: lab$/m);
    assert.match(groups.stdout, /lab\s+dynamic\s+tag=lab version=<2.0.0/);
    assert.match(dry.stdout, /dry run: 8 devices match/);
    assert.match(dry.stdout, /1\s+2\s+2\n2\s+8\s+6/);

    const created = JSON.parse(
      (
        await cli([
          'deploy',
          'sensor',
          '2.0.0',
          '--to',
          'lab',
          '--waves',
          '2,8',
          '--soak',
          '1s',
          '--success',
          '100%',
          '--max-failures',
          '25%',
          '--min-final',
          '2',
          '--timeout',
          '2h',
          '--rate',
          '100/min',
          '--max-downloads',
          '10',
          '--window',
          '00:00-23:59@Europe/Berlin',
          '--option',
          'ddi.download=forced',
          '--json',
        ])
      ).stdout,
    ) as { id: string; state: string; options: Record<string, string>; window: unknown; maxFailures: string };
    assert.equal(created.state, 'running');
    assert.deepEqual(created.options, { 'ddi.download': 'forced' });
    assert.deepEqual(created.window, { start: '00:00', end: '23:59', timeZone: 'Europe/Berlin' });
    assert.equal(created.maxFailures, '25%');

    const [paused] = await Promise.all([
      cli(['deployments', 'pause', created.id]),
      fails(['deploy', 'sensor', '2.0.0'], /already has an active deployment/),
      fails(['groups', 'delete', 'lab'], /targeted by an active deployment/),
      fails(['deploy', 'sensor', '2.0.0', '--window', '25:00-01:00'], /window/),
    ]);
    assert.match(paused.stdout, /paused/);
    await round(server.httpPort, fleet);
    assert.ok(
      fleet.every((d) => d.served.length === 0),
      'paused: nothing offered',
    );
    assert.match((await cli(['deployments', 'resume', created.id])).stdout, /running/);
    const succeeded = async () =>
      (
        (await (await server.api(`/api/v1/deployments/${created.id}`)).json()) as {
          counts: { succeeded: number };
        }
      ).counts.succeeded;
    for (let i = 0; i < 60 && (await succeeded()) < 8; i++) {
      await round(server.httpPort, fleet);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(fleet.slice(0, 8).every((d) => d.version === '2.0.0'));
    assert.ok(
      fleet.slice(8).every((d) => d.served.length === 0),
      'untagged devices are not targeted',
    );
    const [shown, listed] = await Promise.all([
      cli(['deployments', 'show', created.id, '--events']),
      cli(['deployments', 'list']),
    ]);
    assert.match(shown.stdout, new RegExp(`${created.id}  sensor 2.0.0  (running|soaking|completed)`));
    assert.match(shown.stdout, /all\s+8\s+0\s+0\s+0\s+0\s+8\s+0\s+0\s+0/);
    assert.match(shown.stdout, /wave-opened/);
    assert.match(listed.stdout, new RegExp(created.id));

    assert.match((await cli(['deployments', 'rollback', created.id])).stdout, /rolled-back/);
    const [, deleted] = await Promise.all([
      fails(['deployments', 'cancel', created.id], /already rolled-back/),
      cli(['groups', 'delete', 'lab']),
    ]);
    assert.match(deleted.stdout, /group lab deleted/);
  });

  it('is wired into the updraft command', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'deploy', 'sensor', '2.0.0', '--dry-run', '--json'],
      { env: { ...process.env, UPDRAFT_SERVER: server.url, UPDRAFT_TOKEN: ADMIN_TOKEN } },
    );
    assert.deepEqual(JSON.parse(stdout), { matched: 4, waves: [{ spec: '100%', size: 4 }] });
  });
});
