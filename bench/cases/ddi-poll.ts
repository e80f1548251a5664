import { fileURLToPath } from 'node:url';
import { Context, interleave, PUBLISHED } from '../lib/context.js';
import { esp8266Headers } from '../lib/esp.js';
import { caseResult, type BenchCase, type CaseResult } from '../lib/types.js';
import type { Updraft } from '../lib/updraft.js';
import { runWrk } from '../lib/wrk.js';
import { check304, costedWrk, toSeries } from './esp8266-304.js';

const DDI_SCRIPT = fileURLToPath(new URL('../wrk/ddi-poll.lua', import.meta.url));
const ESP_SCRIPT = fileURLToPath(new URL('../wrk/esp8266-304.lua', import.meta.url));

/**
 * A hawkBit DDI poll with nothing to do (the device runs the published release and sent its configData: no link),
 * against the ESP8266 304 check-in on the same server in the same run: 1,000 known devices, 64 keep-alive
 * connections each, in the order ESP, DDI, DDI, ESP (each leg half of BENCH_SECONDS, at least 2 s).
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
      // ESP, DDI, DDI, ESP, each for half the time: one server's throughput drifts over a run (its history
      // tables grow, the other tenants of the machine come and go), and whichever load always went second paid
      // for it (DDI first: 1.31x; ESP first: 0.70x, same build). The mirrored order cancels a linear drift.
      const seconds = Math.max(2, Math.round(ctx.seconds / 2));
      const load = (key: string, script: string, scriptArgs: string[], target: string) => ({
        key,
        run: costedWrk([pid], () => runWrk({ url: target, seconds, connections: 64, script, scriptArgs })),
      });
      // The same load as the esp8266-304 case (checkInLoad), for the leg's duration.
      const esp = load('esp', ESP_SCRIPT, [PUBLISHED, '1000'], espUrl);
      const ddi = load('ddi', DDI_SCRIPT, [token, '1000'], url);
      const results = await interleave(ctx.runs, [esp, ddi, ddi, esp]);
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
