import { fileURLToPath } from 'node:url';
import { Context, interleave, PUBLISHED } from '../lib/context.js';
import { esp8266Headers } from '../lib/esp.js';
import { caseResult, type BenchCase, type CaseResult } from '../lib/types.js';
import type { Updraft } from '../lib/updraft.js';
import { runWrk } from '../lib/wrk.js';
import { check304, checkInLoad, costedWrk, toSeries } from './esp8266-304.js';

const DDI_SCRIPT = fileURLToPath(new URL('../wrk/ddi-poll.lua', import.meta.url));

/**
 * A hawkBit DDI poll with nothing to do (the device runs the published release and sent its configData: no link),
 * against the
 * ESP8266 304 check-in on the same server in the same run: 1,000 known devices, 64 keep-alive connections each.
 */
export const ddiPoll: BenchCase = {
  id: 'ddi-poll',
  title: 'hawkBit DDI poll, nothing to do, vs ESP8266 304',
  async run(ctx: Context): Promise<CaseResult> {
    const started = Date.now();
    const dataDir = await ctx.dataDir(1000);
    const notes: string[] = [];
    let server: Updraft | undefined;
    try {
      server = await ctx.updraft({ name: 'ddi-1', dataDir });
      const product = ctx.images.small.product;
      const created = await server.api('/api/v1/tokens', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'device', product, name: `bench-gateway-${Date.now()}` }),
      });
      if (created.status !== 201) throw new Error(`token: ${created.status} ${await created.text()}`);
      const { token } = (await created.json()) as { token: string };
      // Steady state: each device has sent its configData once (rauc-hawkbit-updater and Zephyr do on first
      // contact, SWUpdate when `identify` is configured), so an idle poll carries no link at all.
      const auth = { Authorization: `GatewayToken ${token}` };
      for (let i = 0; i < 1000; i++) {
        const id = `02:00:${[i >>> 24, (i >>> 16) & 255, (i >>> 8) & 255, i & 255]
          .map((b) => b.toString(16).padStart(2, '0'))
          .join(':')}`;
        const put = await fetch(`${server.url}/default/controller/v1/${id}/configData`, {
          method: 'PUT',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ mode: 'merge', data: { board: 'bench' } }),
        });
        if (put.status !== 200) throw new Error(`configData ${id}: ${put.status} ${await put.text()}`);
      }
      const poll = await fetch(`${server.url}/default/controller/v1/02:00:00:00:00:01`, {
        headers: auth,
      });
      const body = (await poll.json()) as { _links?: Record<string, unknown> };
      if (poll.status !== 200 || body._links?.deploymentBase) {
        throw new Error(
          `DDI poll: expected 200 without deploymentBase, got ${poll.status} ${JSON.stringify(body)}`,
        );
      }
      const espUrl = `${server.url}/${product}`;
      await check304(espUrl, esp8266Headers('02:00:00:00:00:01', PUBLISHED));
      const url = server.url;
      const pid = server.proc.pid;
      const results = await interleave(ctx.runs, [
        { key: 'esp', run: checkInLoad(ctx, espUrl, 1000, [pid]) },
        {
          key: 'ddi',
          run: costedWrk([pid], () =>
            runWrk({
              url,
              seconds: ctx.seconds,
              connections: 64,
              script: DDI_SCRIPT,
              scriptArgs: [token, '1000'],
            }),
          ),
        },
      ]);
      for (const key of ['esp', 'ddi']) {
        const bad = (results.get(key) ?? []).reduce((s, r) => s + r.non2xx3xx, 0);
        if (bad) notes.push(`${key}: ${bad} answers other than 2xx/3xx`);
      }
      return caseResult(this, ctx, started, {
        commands: [
          server.command,
          (results.get('ddi')?.[0]?.command ?? '')
            .replace(/\/\S+\/bench\/wrk/, 'bench/wrk')
            .replace(token, '<token>'),
        ],
        comparisons: [
          {
            name: 'DDI poll vs ESP8266 304, 1 process',
            ours: toSeries('DDI poll (200, no action)', 'req/s', results.get('ddi') ?? [], notes),
            reference: toSeries('ESP8266 304', 'req/s', results.get('esp') ?? [], notes),
            goal: { kind: 'ratio-at-least', value: 0.8 },
          },
        ],
        notes,
      });
    } finally {
      await server?.stop();
    }
  },
};
