import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes, createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildProgram } from '../../src/cli/program.js';
import { ADMIN_TOKEN, startTestServer, tempDir, type TestServer } from '../support/server.js';

const run = promisify(execFile);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Runs `updraft <args>` in this process, returning what it wrote to stdout. */
async function inProcess(args: string[]): Promise<string> {
  const write = process.stdout.write;
  let out = '';
  // The CLI writes strings; the test runner's own (binary) messages to its parent pass through untouched.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (typeof chunk !== 'string') return write.call(process.stdout, chunk, ...rest);
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    await buildProgram()
      .exitOverride()
      .parseAsync(['node', 'updraft', ...args]);
  } finally {
    process.stdout.write = write;
  }
  return out;
}

describe('CLI: progress bars on a terminal, --json on every list and show command', () => {
  let server: TestServer;
  let dir: string;
  const image = randomBytes(4 * 1024 * 1024);
  const env = () => ({ ...process.env, UPDRAFT_SERVER: server.url, UPDRAFT_TOKEN: ADMIN_TOKEN });
  const cli = (args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: env() });
  /** Runs the CLI on a pseudo-terminal (util-linux `script`), as a person at a shell would. */
  const onTerminal = (args: string[]) => {
    const command = [process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...args]
      .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
      .join(' ');
    return run('script', ['-qec', command, '/dev/null'], { env: { ...env(), COLUMNS: '120' } });
  };

  before(async () => {
    server = await startTestServer();
    dir = await tempDir('updraft-cli-progress-');
    await writeFile(join(dir, 'app.bin'), image);
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows a live bar for an upload and a download on a terminal', async () => {
    const up = await onTerminal(['publish', 'gizmo', '2.0.0', `firmware.bin=${join(dir, 'app.bin')}`]);
    assert.match(up.stdout, /uploading gizmo 2\.0\.0 \[[█░]+\] 100% 4\.0\/4\.0 MiB/);
    const out = join(dir, 'copy.bin');
    const down = await onTerminal(['releases', 'download', 'gizmo', '2.0.0', 'firmware.bin', '-o', out]);
    assert.match(down.stdout, /downloading firmware\.bin \[[█░]+\] 100% 4\.0\/4\.0 MiB/);
    assert.ok((await readFile(out)).equals(image));
  });

  it('downloads without a bar when not on a terminal, checking the digest; --json', async () => {
    const out = join(dir, 'plain.bin');
    const { stdout, stderr } = await cli([
      'releases',
      'download',
      'gizmo',
      '2.0.0',
      'firmware.bin',
      '-o',
      out,
      '--json',
    ]);
    assert.deepEqual(JSON.parse(stdout), { file: out, size: image.length, sha256: sha256(image) });
    assert.doesNotMatch(stderr, /\r/);
    assert.match(stderr, /downloading firmware\.bin: 4\.0 MiB in/);
    await assert.rejects(
      cli(['releases', 'download', 'gizmo', '2.0.0', 'nope.bin', '-o', join(dir, 'x')]),
      /ARTIFACT_NOT_FOUND/,
    );
  });

  it('every list and show command prints JSON with --json', async () => {
    process.env.UPDRAFT_SERVER = server.url;
    process.env.UPDRAFT_TOKEN = ADMIN_TOKEN;
    server.services.devices.checkIn({
      deviceId: 'dev-9',
      product: 'gizmo',
      version: '1.0.0',
      protocol: 'test',
    });
    await server.services.devices.flush();
    const group = await server.api('/api/v1/groups', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'lab', devices: ['dev-9'] }),
    });
    assert.equal(group.status, 201, await group.clone().text());
    const deployment = await server.api('/api/v1/deployments', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        product: 'gizmo',
        version: '2.0.0',
        devices: ['dev-9'],
        successPercent: 0,
        startAt: '2099-01-01T00:00:00Z',
      }),
    });
    assert.equal(deployment.status, 201, await deployment.clone().text());
    const { id } = (await deployment.json()) as { id: string };
    // Every list and show command of `updraft --help` (a new one belongs here too).
    const commands = [
      ['products', 'list'],
      ['products', 'show', 'gizmo'],
      ['releases', 'list', 'gizmo'],
      ['releases', 'show', 'gizmo', '2.0.0'],
      ['devices', 'list'],
      ['devices', 'show', 'dev-9'],
      ['tokens', 'list'],
      ['audit'],
      ['keys', 'list', '--data', dir],
      ['deployments', 'list'],
      ['deployments', 'show', id],
      ['groups', 'list'],
      ['groups', 'show', 'lab'],
      ['config', 'check'],
    ];
    // In this process (one tsx start-up per command would dominate the test): stdout captured per command.
    const parsed: unknown[] = [];
    for (const args of commands) {
      parsed.push(JSON.parse(await inProcess([...args, '--json'])));
    }
    assert.equal((parsed[1] as { name: string }).name, 'gizmo');
    assert.equal((parsed[5] as { id: string }).id, 'dev-9');
    assert.equal((parsed[10] as { id: string }).id, id);
    assert.equal((parsed[12] as { name: string }).name, 'lab');
  });
});
