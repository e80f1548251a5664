import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, readFile, rm } from 'node:fs/promises';
import { ADMIN_TOKEN, freePort, tempDir } from '../support/server.js';
import { serverEntry } from '../support/server-bundle.js';

const MiB = 2 ** 20;

/** The young generation's committed size, from prom-client's default metrics (both semi-spaces). */
async function newSpaceBytes(url: string): Promise<number> {
  const res = await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(res.status, 200);
  const line = (await res.text())
    .split('\n')
    .find((l) => l.startsWith('nodejs_heap_space_size_total_bytes{space="new"}'));
  assert.ok(line, 'the new-space series is exported');
  return Number(line.split(' ')[1]);
}

/** `serve` started as `command`, the way a launcher runs it; resolves once /healthz answers. */
async function serve(command: string, args: string[], data: string) {
  const port = await freePort();
  const child: ChildProcess = spawn(
    command,
    [
      ...args,
      'serve',
      '--host',
      '127.0.0.1',
      '--http-port',
      String(port),
      '--coap-port',
      '-1',
      '--data',
      data,
    ],
    { env: { ...process.env, UPDRAFT_ADMIN_TOKEN: ADMIN_TOKEN }, stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}`);
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 300) throw new Error(`${command} did not answer /healthz`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // `env -S` execs node in its own place, so the child's command line is the server's (Linux: /proc).
  const cmdline = (await readFile(`/proc/${child.pid}/cmdline`, 'utf8')).split('\0');
  return { url, cmdline, stop: () => new Promise((r) => child.once('exit', r).kill('SIGKILL')) };
}

/**
 * The CLI's first line runs it with V8 flags (src/cli/main.ts says why): the `updraft` command, `npm start` and
 * the systemd unit all start the server through that line, and the benchmarks read their flags from it.
 */
describe('the updraft launcher line', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('names the flags in a form env -S, npm and the bench harness all read', async () => {
    const first = (await readFile('src/cli/main.ts', 'utf8')).split('\n', 1)[0];
    assert.equal(first, '#!/usr/bin/env -S node --max-semi-space-size=8 --no-allocation-site-pretenuring');
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { scripts: Record<string, string> };
    assert.match(
      pkg.scripts.start ?? '',
      /^dist\/src\/cli\/main\.js serve/,
      'npm start runs the launcher line',
    );
    const unit = await readFile('deploy/systemd/updraft.service', 'utf8');
    assert.match(unit, /^ExecStart=\/usr\/bin\/updraft serve/m, 'the unit runs the installed command');
  });

  it('caps the young generation at 2 × 8 MiB and turns pretenuring off in a server it starts (plain `node` lets start-up grow it to 32)', async () => {
    const entry = serverEntry();
    await chmod(entry, 0o755);
    const data = await tempDir();
    dirs.push(data);
    const launched = await serve(entry, [], data);
    let capped: number;
    try {
      capped = await newSpaceBytes(launched.url);
      // The pretenuring flag has no metric to show it: the server's own command line must carry it.
      assert.ok(
        launched.cmdline.includes('--no-allocation-site-pretenuring'),
        `server command line: ${launched.cmdline.join(' ')}`,
      );
    } finally {
      await launched.stop();
    }
    assert.ok(capped > 0 && capped <= 16 * MiB, `new space ${(capped / MiB).toFixed(1)} MiB`);
    // The same server run as `node <file>`, without the line's flags: the check can fail.
    const plain = await serve(process.execPath, [entry], data);
    try {
      const grown = await newSpaceBytes(plain.url);
      assert.ok(grown > 16 * MiB, `without the flag, new space ${(grown / MiB).toFixed(1)} MiB`);
    } finally {
      await plain.stop();
    }
  });
});
