import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Context, interleave, PUBLISHED } from '../lib/context.js';
import { esp8266Headers } from '../lib/esp.js';
import { prefillDeployment } from '../lib/prefill-deployment.js';
import { caseResult, type BenchCase, type CaseResult, type Comparison, type Series } from '../lib/types.js';
import { publish, type Updraft } from '../lib/updraft.js';
import { checkInLoad, toSeries } from './esp8266-304.js';

// bench/ reads its own settings (the server's stay in src/config): the size can be cut for a quick try.
const DEVICES = Number(process.env.BENCH_DEPLOYMENT_DEVICES ?? 1_000_000);
const DEPLOYMENT = 'dep-bench0000001';

/** Milliseconds of `GET /api/v1/deployments/<id>` (counts per state and wave from the maintained counters). */
async function showTimes(u: Updraft, n: number): Promise<{ ms: number[]; total: number }> {
  const ms: number[] = [];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await u.api(`/api/v1/deployments/${DEPLOYMENT}`);
    const body = (await res.json()) as { total: number };
    ms.push(performance.now() - t);
    if (res.status !== 200) throw new Error(`show: ${res.status} ${JSON.stringify(body)}`);
    total = body.total;
  }
  return { ms, total };
}

/**
 * ESP8266 304 check-ins (esp8266-304's load) against a registry of DEVICES devices with an active deployment
 * over all of them (its 1% canary passed and soaking, the rest pending: every check-in is answered "not now"
 * or "up to date" from memory), as a ratio to the same registry with no deployment (issue 10: goal ≥ 0.8).
 * Also times the deployment page's API call at that size.
 */
export const deploymentCheckIn: BenchCase = {
  id: 'deployment-1m',
  title: `Check-in with an active ${DEVICES.toLocaleString('en')}-device deployment vs none`,
  async run(ctx: Context): Promise<CaseResult> {
    const started = Date.now();
    const servers: Updraft[] = [];
    const notes: string[] = [];
    const plainDir = await ctx.dataDir(DEVICES);
    const deployDir = join(ctx.work, `data-deployment-${DEVICES}`);
    try {
      await rm(deployDir, { recursive: true, force: true });
      await cp(plainDir, deployDir, { recursive: true });
      const prepare = await ctx.updraft({ name: 'deployment-prepare', dataDir: deployDir });
      const product = ctx.images.small.product;
      try {
        await publish(prepare, product, '3.0.0', Buffer.concat([ctx.images.small.bytes, Buffer.from('v3')]));
        const mode = await prepare.api(`/api/v1/products/${product}/rollout-mode`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ rolloutMode: 'deployments' }),
        });
        if (mode.status !== 200) throw new Error(`rollout mode: ${mode.status}`);
      } finally {
        await prepare.stop();
      }
      const filled = prefillDeployment(join(deployDir, 'updraft.db'), DEPLOYMENT, product, '3.0.0');
      notes.push(
        `deployment of ${filled.members} members written in ${filled.ms} ms (bench/lib/prefill-deployment.ts)`,
      );
      console.log(`  ${notes[notes.length - 1] ?? ''}`);

      const none = await ctx.updraft({ name: 'deployment-none', dataDir: plainDir });
      servers.push(none);
      const active = await ctx.updraft({ name: 'deployment-active', dataDir: deployDir });
      servers.push(active);
      const path = `/${product}`;
      // A canary device (succeeded) and a pending one: both answered 304 before anything is timed.
      for (const s of servers) {
        for (const mac of ['02:00:00:00:00:01', '02:00:00:00:00:02']) {
          const res = await fetch(s.url + path, { headers: esp8266Headers(mac, PUBLISHED) });
          const text = await res.text();
          if (res.status !== 304)
            throw new Error(`${s.url}${path} (${mac}): expected 304, got ${res.status} ${text}`);
        }
      }
      const shown = await showTimes(active, 5);
      // The same admin calls on the reference: the first authenticated API call runs the audit context's
      // AsyncLocalStorage, which on Node 20 turns on promise hooks for the rest of the process (a few per cent of
      // every request). Without this only the active server paid them, and the ratio measured an API call.
      for (let i = 0; i < 5; i++) {
        const res = await none.api('/api/v1/deployments');
        if (res.status !== 200) throw new Error(`deployments list on the reference: ${res.status}`);
        await res.arrayBuffer();
      }
      if (shown.total !== filled.members)
        throw new Error(`show: total ${shown.total}, expected ${filled.members}`);
      console.log(
        `  deployment page at ${filled.members} members: ${shown.ms.map((m) => m.toFixed(1)).join(', ')} ms`,
      );
      // None, active, active, none, each for half the time (as ddi-poll): the machine's speed drifts within a run
      // (a first leg at 12 k req/s, the next ones at 8-9 k, in one set), and whichever load always went first
      // or second took that drift into the ratio. The mirrored order cancels a linear drift.
      const seconds = Math.max(2, Math.round(ctx.seconds / 2));
      const noneLeg = {
        key: 'none',
        run: checkInLoad(ctx, none.url + path, DEVICES, [none.proc.pid], undefined, seconds),
      };
      const activeLeg = {
        key: 'active',
        run: checkInLoad(ctx, active.url + path, DEVICES, [active.proc.pid], undefined, seconds),
      };
      const results = await interleave(ctx.runs, [noneLeg, activeLeg, activeLeg, noneLeg]);
      const reference = toSeries('no deployment', 'req/s', results.get('none') ?? [], notes);
      const ours = toSeries(
        `active deployment of ${DEVICES} devices`,
        'req/s',
        results.get('active') ?? [],
        notes,
      );
      const show: Series = { label: 'GET /api/v1/deployments/<id>', unit: 'ms', values: shown.ms };
      const comparisons: Comparison[] = [
        {
          name: 'Active deployment: check-in rate',
          ours,
          reference,
          goal: { kind: 'ratio-at-least', value: 0.8 },
        },
        {
          name: 'Active deployment: p99 latency',
          ours,
          reference,
          onP99: true,
          goal: { kind: 'ratio-at-most', value: 1.25 },
        },
        {
          name: 'Deployment page (counts per state and wave)',
          ours: show,
          goal: { kind: 'at-most', value: 1000 },
        },
      ];
      for (const key of ['none', 'active']) {
        const bad = (results.get(key) ?? []).reduce((s, r) => s + r.non2xx3xx, 0);
        if (bad) notes.push(`${key}: ${bad} answers other than 2xx/3xx`);
      }
      return caseResult(this, ctx, started, {
        commands: [
          `bench/lib/prefill.ts + bench/lib/prefill-deployment.ts: ${DEVICES} devices and members into SQLite`,
          results.get('active')?.[0]?.command.replace(/\/\S+\/bench\/wrk/, 'bench/wrk') ?? '',
        ],
        comparisons,
        notes,
      });
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  },
};
