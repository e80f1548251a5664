import { Context, OLDER, PUBLISHED } from '../lib/context.js';
import { esp8266Headers } from '../lib/esp.js';
import { coapProbe } from '../lib/coap.js';
import { measureCpu, usPer } from '../lib/cpu.js';
import { simulateClients } from '../lib/coap-sim.js';
import { sampleRss, treeRss } from '../lib/rss.js';
import { holdSlowDownloads } from '../lib/slow-http.js';
import { caseResult, type BenchCase, type CaseResult, type Comparison } from '../lib/types.js';
import { ADMIN_TOKEN, type Updraft } from '../lib/updraft.js';
import { coapPath } from './coap-download.js';

const MB = 1e6;
const CLIENTS = 1000;

/**
 * Peak RSS of one Updraft process while 1,000 HTTP downloads are in flight (read slowly, so all stay open): of
 * the 16 MiB image, which the blob cache holds, and of the 64 MiB one, above the cache's limit and so streamed
 * from disk with a read-ahead per connection (issue 13, defect 7); RSS is also sampled 10 s after the uncached
 * downloads were aborted. Then 1,000 simulated CoAP clients download block-wise from a fresh process: what the
 * HTTP phases leave in the heap (the 64 MiB streams' read-ahead) is not what CoAP costs.
 */
export const memory: BenchCase = {
  id: 'memory',
  title: 'Memory: 1,000 downloads in flight',
  async run(ctx: Context): Promise<CaseResult> {
    const started = Date.now();
    const holdMs = Math.max(8000, ctx.seconds * 2000);
    const notes: string[] = [];
    const http: number[] = [];
    const streamed: number[] = [];
    const afterAbort: number[] = [];
    const coap: number[] = [];
    // CPU µs per MiB the slow HTTP readers got, and per CoAP block served (no reference server in this case).
    const httpCpu: number[] = [];
    const coapCpu: number[] = [];
    let updraft: Updraft | undefined;
    try {
      for (let i = 0; i < ctx.runs; i++) {
        // A fresh process per run: the peak must not include what an earlier run left.
        updraft = await ctx.updraft({
          name: `memory-${i + 1}`,
          dataDir: await ctx.dataDir(1000),
          coap: true,
        });
        const idle = treeRss(updraft.proc.pid);
        const httpSampler = sampleRss(updraft.proc.pid);
        const port = updraft.options.httpPort;
        const { result: h, totalMs: httpMs } = await measureCpu([updraft.proc.pid], () =>
          holdSlowDownloads({
            port,
            path: `/${ctx.images.large.product}`,
            headers: esp8266Headers('02:00:00:00:e0:01', OLDER),
            connections: CLIENTS,
            holdMs,
          }),
        );
        httpCpu.push(usPer(httpMs, h.bytes / 2 ** 20));
        const httpPeak = httpSampler.stop().peak;
        http.push(httpPeak / MB);
        console.log(
          `  run ${i + 1} http: idle ${(idle / MB).toFixed(0)} MB, peak ${(httpPeak / MB).toFixed(0)} MB, ${h.statusOk}/${CLIENTS} answered 200, ${(h.bytes / 2 ** 20).toFixed(0)} MiB read`,
        );
        if (h.statusOk < CLIENTS)
          notes.push(`HTTP run ${i + 1}: only ${h.statusOk} of ${CLIENTS} downloads started`);

        // The 64 MiB phase in a fresh process too: its peak must be what 1,000 streamed downloads cost, not that
        // plus the heap the 16 MiB phase left (issue 13: "≤ 200 MB RSS for 1,000 in flight, each").
        await updraft.stop();
        updraft = await ctx.updraft({
          name: `memory-stream-${i + 1}`,
          dataDir: await ctx.dataDir(1000),
          coap: true,
        });
        const streamIdle = treeRss(updraft.proc.pid);
        notes.push(
          `HTTP 64 MiB run ${i + 1}: idle RSS of its fresh process ${(streamIdle / MB).toFixed(0)} MB`,
        );
        const streamSampler = sampleRss(updraft.proc.pid);
        // An ESP8266 reports far less free space than 64 MiB, so this goes through the management API's download.
        const s = await holdSlowDownloads({
          port: updraft.options.httpPort,
          path: `/api/v1/products/${ctx.images.huge.product}/releases/${PUBLISHED}/artifacts/firmware.bin`,
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
          connections: CLIENTS,
          holdMs,
        });
        const streamPeak = streamSampler.stop().peak;
        streamed.push(streamPeak / MB);
        // holdSlowDownloads destroys its sockets at the end: every download is aborted mid-image.
        await new Promise((r) => setTimeout(r, 10_000));
        afterAbort.push(treeRss(updraft.proc.pid) / MB);
        console.log(
          `  run ${i + 1} http (64 MiB, not cached): peak ${(streamPeak / MB).toFixed(0)} MB, ${s.statusOk}/${CLIENTS} answered 200; 10 s after aborting them ${(afterAbort[i] ?? 0).toFixed(0)} MB`,
        );
        if (s.statusOk < CLIENTS)
          notes.push(`HTTP 64 MiB run ${i + 1}: only ${s.statusOk} of ${CLIENTS} downloads started`);

        await updraft.stop();
        updraft = await ctx.updraft({
          name: `memory-coap-${i + 1}`,
          dataDir: await ctx.dataDir(1000),
          coap: true,
        });
        const coapIdle = treeRss(updraft.proc.pid);
        const url = `coap://127.0.0.1:${updraft.options.coapPort}${coapPath(ctx.images.small.product)}`;
        const problem = i === 0 ? await coapProbe(url, ctx.images.small.bytes, ctx.work) : undefined;
        if (problem) {
          notes.push(`CoAP not measured: ${problem}`);
        } else if (i === 0 || coap.length > 0) {
          const coapSampler = sampleRss(updraft.proc.pid);
          const coapPort = updraft.options.coapPort;
          const { result: c, totalMs: coapMs } = await measureCpu([updraft.proc.pid], () =>
            simulateClients({
              host: '127.0.0.1',
              port: coapPort,
              path: coapPath(ctx.images.small.product).split('/').filter(Boolean),
              clients: CLIENTS,
              durationMs: holdMs,
            }),
          );
          coapCpu.push(usPer(coapMs, c.blocks));
          const coapPeak = coapSampler.stop().peak;
          coap.push(coapPeak / MB);
          console.log(
            `  run ${i + 1} coap: peak ${(coapPeak / MB).toFixed(0)} MB, ${c.blocks} blocks, ${c.completed} complete downloads, ${c.retransmits} retransmits, ${c.errors} errors`,
          );
          if (c.errors) notes.push(`CoAP run ${i + 1}: ${c.errors} error responses`);
          notes.push(`CoAP run ${i + 1}: idle RSS of its fresh process ${(coapIdle / MB).toFixed(0)} MB`);
          notes.push(
            `CoAP run ${i + 1}: ${c.blocks} blocks (${Math.round(c.blocks / (holdMs / 1000))} blocks/s) to ${CLIENTS} clients, ${c.completed} complete downloads, ${c.retransmits} retransmissions`,
          );
        }
        notes.push(`run ${i + 1}: idle RSS before the load ${(idle / MB).toFixed(0)} MB`);
        await updraft.stop();
        updraft = undefined;
      }
      const comparisons: Comparison[] = [
        {
          name: `HTTP: ${CLIENTS} downloads of 16 MiB in flight`,
          ours: {
            label: 'Updraft peak RSS',
            unit: 'MB',
            values: http,
            cpu: { per: 'MiB sent', us: httpCpu },
          },
          goal: { kind: 'at-most', value: 200 },
        },
        {
          name: `HTTP: ${CLIENTS} downloads of 64 MiB (not cached, streamed) in flight`,
          ours: { label: 'Updraft peak RSS', unit: 'MB', values: streamed },
          goal: { kind: 'at-most', value: 200 },
        },
        {
          name: `HTTP: 10 s after aborting ${CLIENTS} downloads of 64 MiB`,
          ours: { label: 'Updraft RSS', unit: 'MB', values: afterAbort },
          goal: { kind: 'at-most', value: 200 },
        },
        {
          name: `CoAP: ${CLIENTS} block-wise clients`,
          ours: { label: 'Updraft peak RSS', unit: 'MB', values: coap, cpu: { per: 'block', us: coapCpu } },
          goal: { kind: 'at-most', value: 200 },
        },
      ];
      return caseResult(this, ctx, started, {
        commands: [
          `bench/lib/slow-http.ts: ${CLIENTS} keep-alive GET /fw16m (ESP8266 headers, older version), then the API download of fw64m, paused sockets read a little every 500 ms, held ${holdMs / 1000} s, then closed mid-image`,
          `bench/lib/coap-sim.ts (a fresh server process): ${CLIENTS} UDP sockets, CON GET ${coapPath(ctx.images.small.product)} Block2 NUM/SZX 6, one outstanding request each, ${holdMs / 1000} s`,
          'RSS: VmRSS of /proc/<pid>/status (and its children), sampled every 200 ms, peak; MB = 10^6 bytes',
          'CPU: user + system of /proc/<pid>/stat over each hold, per MiB the slow readers got / per block the simulated clients got (no reference server: the goal is absolute)',
        ],
        comparisons,
        notes,
      });
    } finally {
      await updraft?.stop();
    }
  },
};
