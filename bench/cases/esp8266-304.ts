import { fileURLToPath } from 'node:url';
import { Context, interleave, PUBLISHED } from '../lib/context.js';
import { cpuOf, withCost, type Costed } from '../lib/cpu.js';
import { esp8266Headers } from '../lib/esp.js';
import { startNginx } from '../lib/nginx.js';
import { startFloor } from '../lib/floor.js';
import { freeTcpPort, type Proc } from '../lib/proc.js';
import { caseResult, type BenchCase, type CaseResult, type Comparison, type Series } from '../lib/types.js';
import { blobsDir, blobUrlPath, type Updraft } from '../lib/updraft.js';
import { runWrk, type WrkResult } from '../lib/wrk.js';

const CHECK_IN_SCRIPT = fileURLToPath(new URL('../wrk/esp8266-304.lua', import.meta.url));

/** Requests/s and p99 of wrk runs; with the CPU per request when the runs were costed. */
export function toSeries(
  label: string,
  unit: string,
  runs: (WrkResult | Costed<WrkResult>)[],
  notes: string[],
  per = 'request',
): Series {
  const errors = runs.reduce((n, r) => n + r.socketErrors, 0);
  if (errors) notes.push(`${label}: ${errors} socket errors over ${runs.length} runs`);
  const costed = runs.every((r): r is Costed<WrkResult> => 'cpuUs' in r);
  return {
    label,
    unit,
    values: runs.map((r) => r.requestsPerSec),
    p99Ms: runs.map((r) => r.p99),
    ...(costed && runs.length ? { cpu: cpuOf(per, runs) } : {}),
  };
}

/** wrk under the CPU meter: what the process trees of `servers` spent per request wrk counted. */
export const costedWrk =
  (servers: number[], work: (run: number) => Promise<WrkResult>) =>
  (run = 0) =>
    withCost(
      servers,
      () => work(run),
      (r) => r.requests,
    );

/**
 * wrk sending ESP8266 check-ins of PUBLISHED to `url`, 64 connections, the MACs cycling over `devices` devices;
 * the CPU of the process trees of `servers` is measured meanwhile. `settle`, when given, runs after wrk inside
 * the measured window (the registry cases wait there for the write-behind backlog: its cost is the check-ins').
 * `seconds` shortens the load for cases that run it in several legs. Run i of `interleave` starts its devices at
 * `firstDevice(devices, i)`, so a large registry sees other devices in every run (bench/wrk/esp8266-304.lua).
 */
export const checkInLoad = (
  ctx: Context,
  url: string,
  devices: number,
  servers: number[],
  settle?: () => Promise<void>,
  seconds = ctx.seconds,
) =>
  costedWrk(servers, async (run) => {
    const result = await runWrk({
      url,
      seconds,
      connections: 64,
      script: CHECK_IN_SCRIPT,
      scriptArgs: [PUBLISHED, String(devices), String(firstDevice(devices, run))],
    });
    await settle?.();
    return result;
  });

/**
 * Where run `run` starts counting devices: each of wrk's two threads owns half of the registry, cut into eight
 * slices (a slice of 62,500 devices at 1,000,000, more than a thread checks in during a 10 s run here); run i
 * takes slice i mod 8, and a warm-up (run -1) the last.
 */
export function firstDevice(devices: number, run: number): number {
  const slice = Math.floor(devices / 2 / 8);
  return (((run % 8) + 8) % 8) * slice;
}

/** Checks that a check-in is answered 304 before timing it. */
export async function check304(url: string, headers: Record<string, string>): Promise<void> {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  if (res.status !== 304) throw new Error(`${url}: expected 304, got ${res.status}`);
}

/**
 * ESP8266 check-in with no update: the full header set, the published version, a different STA MAC per request
 * over 1,000 known devices (the registry is updated for all), 64 keep-alive connections. Reference: nginx
 * answering 304 to If-None-Match for a static file.
 */
export const esp8266CheckIn: BenchCase = {
  id: 'esp8266-304',
  title: 'ESP8266 check-in, no update (304)',
  async run(ctx: Context): Promise<CaseResult> {
    const started = Date.now();
    // One folder per server: SQLite serves one process.
    const dirs = {
      one: await ctx.privateDataDir(1000, 'esp-1'),
      two: await ctx.privateDataDir(1000, 'esp-w2'),
    };
    const servers: Updraft[] = [];
    const notes: string[] = [];
    const commands: string[] = [];
    let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
    const floors: Proc[] = [];
    try {
      const one = await ctx.updraft({ name: 'esp-1', dataDir: dirs.one });
      servers.push(one);
      const two = await ctx.updraft({ name: 'esp-w2', dataDir: dirs.two, workers: 2 });
      servers.push(two);
      const directPort = await freeTcpPort();
      nginx = await startNginx({
        prefix: `${ctx.work}/nginx-304`,
        blobs: blobsDir(dirs.one),
        directPort,
        accelPort: await freeTcpPort(),
        updraftPort: one.options.httpPort,
        accelPrefix: '/_blobs',
      });
      const staticUrl = `http://127.0.0.1:${directPort}${blobUrlPath(ctx.images.small.sha256)}`;
      const etag = (await fetch(staticUrl, { method: 'HEAD' })).headers.get('etag') ?? '';
      await check304(staticUrl, { 'If-None-Match': etag });
      // Node's own floor for the same answer nginx gives: node:http alone, and one bare fastify route.
      const floorUrl = async (floor: 'http-304' | 'fastify-304') => {
        const port = await freeTcpPort();
        const proc = await startFloor(floor, [String(port), etag]);
        floors.push(proc);
        const url = `http://127.0.0.1:${port}${blobUrlPath(ctx.images.small.sha256)}`;
        await check304(url, { 'If-None-Match': etag });
        return { proc, url };
      };
      const nodeHttp = await floorUrl('http-304');
      const fastify = await floorUrl('fastify-304');
      const asNginx = (url: string) => () =>
        runWrk({ url, seconds: ctx.seconds, connections: 64, headers: { 'If-None-Match': etag } });
      const product = `/${ctx.images.small.product}`;
      await check304(one.url + product, esp8266Headers('02:00:00:00:00:01', PUBLISHED));
      await check304(two.url + product, esp8266Headers('02:00:00:00:00:01', PUBLISHED));
      const nginxProc = nginx.proc;
      const results = await interleave(ctx.runs, [
        {
          key: 'nginx',
          // nginx: master and workers (the tree of the master's PID).
          run: costedWrk([nginxProc.pid], asNginx(staticUrl)),
        },
        { key: 'node-http', run: costedWrk([nodeHttp.proc.pid], asNginx(nodeHttp.url)) },
        { key: 'fastify', run: costedWrk([fastify.proc.pid], asNginx(fastify.url)) },
        { key: 'updraft-1', run: checkInLoad(ctx, one.url + product, 1000, [one.proc.pid]) },
        { key: 'updraft-w2', run: checkInLoad(ctx, two.url + product, 1000, [two.proc.pid]) },
      ]);
      const reference = toSeries('nginx 304 (If-None-Match)', 'req/s', results.get('nginx') ?? [], notes);
      const comparisons: Comparison[] = [
        {
          name: 'Updraft, 1 process',
          ours: toSeries('Updraft 1 process', 'req/s', results.get('updraft-1') ?? [], notes),
          reference,
          goal: { kind: 'ratio-at-least', value: 0.3 },
        },
        {
          name: 'Updraft, --workers 2',
          ours: toSeries('Updraft 2 workers', 'req/s', results.get('updraft-w2') ?? [], notes),
          reference,
          goal: { kind: 'ratio-at-least', value: 0.3 },
        },
      ];
      // No goal: these rows say how much of the gap to nginx any Node.js (or fastify) server has here.
      comparisons.push(
        {
          name: 'floor: bare node:http, 1 process',
          ours: toSeries('node:http 304', 'req/s', results.get('node-http') ?? [], notes),
          reference,
        },
        {
          name: 'floor: bare fastify route, 1 process',
          ours: toSeries('fastify 304', 'req/s', results.get('fastify') ?? [], notes),
          reference,
        },
      );
      for (const key of ['updraft-1', 'updraft-w2']) {
        const bad = (results.get(key) ?? []).reduce((s, r) => s + r.non2xx3xx, 0);
        if (bad) notes.push(`${key}: ${bad} answers other than 2xx/3xx`);
      }
      commands.push(
        one.command,
        two.command,
        results.get('nginx')?.[0]?.command ?? '',
        results.get('updraft-1')?.[0]?.command.replace(/\/\S+\/bench\/wrk/, 'bench/wrk') ?? '',
      );
      return caseResult(this, ctx, started, {
        commands,
        comparisons,
        notes,
      });
    } finally {
      await nginx?.proc.stop();
      await Promise.all(floors.map((f) => f.stop()));
      await Promise.all(servers.map((s) => s.stop()));
    }
  },
};
