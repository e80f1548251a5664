// A throw-away PostgreSQL for one test run: Debian's initdb/pg_ctl in a temporary folder, on a free loopback
// port, trust authentication, fsync off (the data is discarded). PostgreSQL refuses to run as root, so under root
// the cluster belongs to the `postgres` system user (or `nobody`).
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresBinDir } from './test-tools.mjs';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** uid/gid of a system user, from getent. */
function account(name) {
  const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const [, , uid, gid] = r.stdout.trim().split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}

/** Starts the cluster; resolves to its URL and a stop function (synchronous, safe in an exit handler). */
export async function startThrowawayPostgres() {
  const bin = postgresBinDir();
  if (!bin)
    throw new Error('no PostgreSQL binaries in /usr/lib/postgresql/*/bin (Debian package postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'updraft-pg-'));
  const data = join(dir, 'data');
  const root = process.getuid?.() === 0;
  const user = root ? (account('postgres') ?? account('nobody')) : undefined;
  if (root && !user) throw new Error('running as root, but neither a postgres nor a nobody user exists');
  if (user) chownSync(dir, user.uid, user.gid);
  const run = (command, args) => {
    const [cmd, argv] = user ? ['runuser', ['-u', user.name, '--', command, ...args]] : [command, args];
    const r = spawnSync(cmd, argv, { encoding: 'utf8', cwd: dir });
    if (r.status !== 0) throw new Error(`${command} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  };
  const port = await freePort();
  try {
    run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
    const options = [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${dir}`,
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
    run(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
