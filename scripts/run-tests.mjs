#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's own test runner (tsx for TypeScript), after setting up what the tests
// need on a fresh machine: the system tools (scripts/test-tools.mjs, installed from Debian when root) and, when
// UPDRAFT_TEST_POSTGRES_URL is unset, a throw-away PostgreSQL (scripts/test-postgres.mjs) stopped at the end.
// Node 20's `--test` does not expand globs, so the file list is built here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { ensureSwupdateGeneral, ensureTestTools } from './test-tools.mjs';
import { startThrowawayPostgres } from './test-postgres.mjs';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const only = process.argv.slice(2);
const files = (only.length ? only : find('test')).sort();

ensureTestTools();
if (files.some((f) => f.includes('swupdate-general'))) ensureSwupdateGeneral();

const env = { ...process.env };
let postgres;
if (!env.UPDRAFT_TEST_POSTGRES_URL) {
  postgres = await startThrowawayPostgres();
  env.UPDRAFT_TEST_POSTGRES_URL = postgres.url;
  console.error(
    `test PostgreSQL: ${postgres.url} (throw-away; set UPDRAFT_TEST_POSTGRES_URL to use another)`,
  );
}
const stopPostgres = () => postgres?.stop();
process.on('exit', stopPostgres);

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files],
  { stdio: 'inherit', env },
);
// Ctrl-C reaches the runner too (same process group); wait for it, then clean up.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  stopPostgres();
  process.exit(code ?? (signal ? 1 : 0));
});
