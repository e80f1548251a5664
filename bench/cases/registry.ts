import { Context, interleave, PUBLISHED } from '../lib/context.js';
import { esp8266Headers } from '../lib/esp.js';
import { caseResult, type BenchCase, type CaseResult, type Comparison } from '../lib/types.js';
import type { Updraft } from '../lib/updraft.js';
import { check304, checkInLoad, toSeries } from './esp8266-304.js';

const LARGE = 1_000_000;

/**
 * The ESP8266 check-in of esp8266-304 against a registry of 1,000 and of 1,000,000 devices (filled directly in
 * SQLite; bench/lib/prefill.ts); the MACs cycle over all known devices, so every check-in updates an existing row.
 */
export const registrySize: BenchCase = {
  id: 'registry-1m',
  title: 'Check-in with 1,000,000 devices in the registry vs 1,000',
  async run(ctx: Context): Promise<CaseResult> {
    const started = Date.now();
    const servers: Updraft[] = [];
    const notes: string[] = [];
    try {
      const small = await ctx.updraft({ name: 'registry-1k', dataDir: await ctx.dataDir(1000) });
      servers.push(small);
      const large = await ctx.updraft({ name: 'registry-1m', dataDir: await ctx.dataDir(LARGE) });
      servers.push(large);
      const product = `/${ctx.images.small.product}`;
      for (const s of servers)
        await check304(s.url + product, esp8266Headers('02:00:00:00:00:01', PUBLISHED));
      const results = await interleave(ctx.runs, [
        { key: '1k', run: checkInLoad(ctx, small.url + product, 1000, [small.proc.pid]) },
        { key: '1m', run: checkInLoad(ctx, large.url + product, LARGE, [large.proc.pid]) },
      ]);
      const ref = toSeries('1,000 devices', 'req/s', results.get('1k') ?? [], notes);
      const ours = toSeries('1,000,000 devices', 'req/s', results.get('1m') ?? [], notes);
      const comparisons: Comparison[] = [
        {
          name: '1,000,000 devices: rate',
          ours,
          reference: ref,
          goal: { kind: 'ratio-at-least', value: 0.8 },
        },
        {
          name: '1,000,000 devices: p99 latency',
          ours,
          reference: ref,
          onP99: true,
          goal: { kind: 'ratio-at-most', value: 1.2 },
        },
      ];
      return caseResult(this, ctx, started, {
        commands: [
          `bench/lib/prefill.ts: ${LARGE} rows into devices of the stopped server's SQLite, one transaction`,
          results.get('1m')?.[0]?.command.replace(/\/\S+\/bench\/wrk/, 'bench/wrk') ?? '',
        ],
        comparisons,
        notes,
      });
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  },
};
