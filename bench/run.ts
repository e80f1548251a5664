/**
 * `npm run bench [-- <case>...]`: Updraft against nginx and libcoap on this machine, interleaved, several runs;
 * writes docs/benchmarks.md (between markers), bench/results/latest.json and bench/results/raw/<time>.json.
 * Separate from `npm test`. Settings: BENCH_RUNS (default 3), BENCH_SECONDS (wrk duration, default 5),
 * BENCH_PROFILE=1 (Updraft runs with --cpu-prof; profiles and a top-functions summary in bench/results/raw/),
 * BENCH_FROM_SOURCES=1 (run src/ through tsx instead of compiling it first).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from './lib/context.js';
import { stopAll } from './lib/proc.js';
import { writeReport, type Summary } from './lib/report.js';
import { ensureTools, machine } from './lib/system.js';
import type { BenchCase, CaseResult } from './lib/types.js';
import { compileServer, ROOT } from './lib/updraft.js';
import { httpDownload } from './cases/http-download.js';
import { esp8266CheckIn } from './cases/esp8266-304.js';
import { registrySize, registrySizePostgres } from './cases/registry.js';
import { coapDownload } from './cases/coap-download.js';
import { memory } from './cases/memory.js';
import { ddiPoll } from './cases/ddi-poll.js';
import { replicaCheckIns } from './cases/replicas.js';
import { deploymentCheckIn } from './cases/deployment-1m.js';
import { s3Download } from './cases/s3-download.js';
import { metricsScrape } from './cases/metrics-scrape.js';
import { summarizeProfiles } from './lib/profile.js';

const CASES: BenchCase[] = [
  httpDownload,
  esp8266CheckIn,
  registrySize,
  registrySizePostgres,
  coapDownload,
  memory,
  ddiPoll,
  replicaCheckIns,
  deploymentCheckIn,
  s3Download,
  metricsScrape,
];

function intFromEnv(name: string, fallback: number): number {
  // bench/ is a tool, not the server: it reads its own settings here (the server's config stays in src/config).
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !CASES.some((c) => c.id === w));
  if (unknown.length) {
    throw new Error(`unknown case ${unknown.join(', ')}; cases: ${CASES.map((c) => c.id).join(', ')}`);
  }
  const selected = wanted.length ? CASES.filter((c) => wanted.includes(c.id)) : CASES;
  const runs = intFromEnv('BENCH_RUNS', 3);
  const seconds = intFromEnv('BENCH_SECONDS', 5);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const rawDir = join(ROOT, 'bench/results/raw');
  await mkdir(rawDir, { recursive: true });
  const profileDir = process.env.BENCH_PROFILE ? join(rawDir, `profile-${stamp}`) : undefined;

  await ensureTools();
  const work = await mkdtemp(join(tmpdir(), 'updraft-bench-'));
  const fromSources = Boolean(process.env.BENCH_FROM_SOURCES);
  const ctx = new Context(runs, seconds, work, profileDir, fromSources);
  await ctx.init();
  if (!fromSources) {
    console.log('compiling src/ into dist/bench');
    await compileServer();
  }
  const info = await machine();
  console.log(`bench: ${selected.map((c) => c.id).join(', ')}; ${runs} runs, ${seconds} s; scratch ${work}`);

  const latestPath = join(ROOT, 'bench/results/latest.json');
  const previous = JSON.parse(await readFile(latestPath, 'utf8').catch(() => '{}')) as Partial<Summary>;
  const results: Record<string, CaseResult> = {};
  const started = Date.now();
  let failed = false;
  try {
    for (const c of selected) {
      console.log(`\n== ${c.id}: ${c.title}`);
      try {
        results[c.id] = await c.run(ctx);
      } catch (err) {
        failed = true;
        console.error(`case ${c.id} failed:`, err);
      }
    }
  } finally {
    await stopAll();
  }
  console.log(`\nall cases: ${Math.round((Date.now() - started) / 1000)} s`);

  // A partial run (one case) keeps the other cases' last results, each with its own date.
  const summary: Summary = {
    generatedAt: new Date().toISOString(),
    machine: info,
    settings: { runs, seconds },
    cases: Object.fromEntries(
      CASES.map((c) => [c.id, results[c.id] ?? previous.cases?.[c.id]]).filter(([, r]) => r !== undefined),
    ) as Record<string, CaseResult>,
  };
  await writeFile(join(rawDir, `${stamp}.json`), JSON.stringify({ ...summary, cases: results }, null, 2));
  await writeFile(latestPath, `${JSON.stringify(summary, null, 2)}\n`);
  await writeReport(join(ROOT, 'docs/benchmarks.md'), summary);
  if (profileDir) await summarizeProfiles(profileDir);
  await rm(work, { recursive: true, force: true });
  console.log('wrote docs/benchmarks.md and bench/results/latest.json');
  if (failed) process.exitCode = 1;
}

main().catch(async (err: unknown) => {
  console.error(err);
  await stopAll();
  process.exit(1);
});
