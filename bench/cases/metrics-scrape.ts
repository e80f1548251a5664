import type { Context } from '../lib/context.js';
import { interleave } from '../lib/context.js';
import { caseResult, type BenchCase, type CaseResult } from '../lib/types.js';
import type { Updraft } from '../lib/updraft.js';

const LARGE = 1_000_000;
const SCRAPES = 200;

/** Median time of `SCRAPES` sequential scrapes of `/metrics`, ms (and the largest body seen). */
function scrapeLoad(
  server: Updraft,
): (run: number) => Promise<{ medianMs: number; p99Ms: number; bytes: number }> {
  return async () => {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < SCRAPES; i++) {
      const started = performance.now();
      const res = await server.api('/metrics');
      const text = await res.text();
      times.push(performance.now() - started);
      if (!res.ok) throw new Error(`/metrics: ${res.status} ${text.slice(0, 200)}`);
      bytes = Math.max(bytes, text.length);
    }
    times.sort((a, b) => a - b);
    return {
      medianMs: times[Math.floor(times.length / 2)] ?? 0,
      p99Ms: times[Math.floor(times.length * 0.99)] ?? 0,
      bytes,
    };
  };
}

/**
 * A Prometheus scrape with 1,000,000 devices in the registry vs 1,000 (issue 15): the fleet gauges come from
 * counters kept by the registry, so the cost must not grow with the fleet.
 */
export const metricsScrape: BenchCase = {
  id: 'metrics-scrape',
  title: 'GET /metrics with 1,000,000 devices in the registry vs 1,000',
  async run(ctx: Context): Promise<CaseResult> {
    const started = Date.now();
    const servers: Updraft[] = [];
    const notes: string[] = [];
    try {
      const smallDir = await ctx.dataDir(1000);
      const largeDir = await ctx.dataDir(LARGE);
      const t0 = Date.now();
      const small = await ctx.updraft({ name: 'metrics-1k', dataDir: smallDir });
      servers.push(small);
      const t1 = Date.now();
      const large = await ctx.updraft({ name: 'metrics-1m', dataDir: largeDir });
      servers.push(large);
      notes.push(
        `start-up to /readyz (includes the one grouped query that seeds the devices gauge): ${t1 - t0} ms with 1,000 devices, ${Date.now() - t1} ms with 1,000,000 (data folders prepared before)`,
      );
      const results = await interleave(ctx.runs, [
        { key: '1k', run: scrapeLoad(small) },
        { key: '1m', run: scrapeLoad(large) },
      ]);
      const series = (label: string, key: string) => ({
        label,
        unit: 'ms per scrape (median of 200)',
        values: (results.get(key) ?? []).map((r) => r.medianMs),
        p99Ms: (results.get(key) ?? []).map((r) => r.p99Ms),
      });
      const body = (key: string) => Math.max(...(results.get(key) ?? []).map((r) => r.bytes));
      notes.push(
        `exposition size: ${body('1k')} bytes with 1,000 devices, ${body('1m')} bytes with 1,000,000`,
      );
      return caseResult(this, ctx, started, {
        commands: [`${SCRAPES} sequential GET /metrics (admin token) per run, against each server`],
        comparisons: [
          {
            name: '1,000,000 devices: scrape time',
            ours: series('1,000,000 devices', '1m'),
            reference: series('1,000 devices', '1k'),
            goal: { kind: 'ratio-at-most', value: 1.2 },
          },
        ],
        notes,
      });
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  },
};
