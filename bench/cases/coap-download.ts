import { Context, interleave } from '../lib/context.js';
import { coapDownloads, coapGetArgs, coapProbe, startLibcoapServer } from '../lib/coap.js';
import { cpuOf, withCost } from '../lib/cpu.js';
import { startFloor } from '../lib/floor.js';
import { freeUdpPort, type Proc } from '../lib/proc.js';
import { caseResult, type BenchCase, type CaseResult, type Comparison, type Series } from '../lib/types.js';
import type { Updraft } from '../lib/updraft.js';
import { shellLine } from '../lib/wrk.js';

export const coapPath = (product: string) => `/fw/${product}/latest/firmware.bin`;

/**
 * CoAP Block2 download of 1 MiB in 1024-byte blocks by 1, 16 and 64 concurrent coap-client-notls processes:
 * libcoap's coap-server-notls (seeded by a PUT) against Updraft's firmware resource, as one process and with
 * `--workers 2` (every worker serves CoAP on the one port, docs/coap.md "On every core").
 */
const WORKERS = 2;

export const coapDownload: BenchCase = {
  id: 'coap-download',
  title: 'CoAP Block2 download of 1 MiB, 1024-byte blocks',
  async run(ctx: Context): Promise<CaseResult> {
    const started = Date.now();
    const image = ctx.images.small;
    let updraft: Updraft | undefined;
    let cluster: Updraft | undefined;
    let libcoap: { proc: Proc; url: string } | undefined;
    let floor: Proc | undefined;
    const notes: string[] = [];
    const comparisons: Comparison[] = [];
    try {
      // SQLite serves one `serve` at a time: the cluster gets its own copy, made before either starts.
      const clusterDir = await ctx.privateDataDir(1000, 'coap-workers');
      updraft = await ctx.updraft({ name: 'coap', dataDir: await ctx.dataDir(1000), coap: true });
      cluster = await ctx.updraft({
        name: 'coap-workers',
        dataDir: clusterDir,
        coap: true,
        workers: WORKERS,
      });
      libcoap = await startLibcoapServer(await freeUdpPort(), image.file);
      // Node's own floor: node:dgram answering each block from memory and nothing else (bench/floor/).
      const floorPort = await freeUdpPort();
      floor = await startFloor('coap-block', [String(floorPort), image.file]);
      const floorUrl = `coap://127.0.0.1:${floorPort}/fw.bin`;
      const floorProblem = await coapProbe(floorUrl, image.bytes, ctx.work);
      if (floorProblem) throw new Error(`bench/floor/coap-block.mjs: ${floorProblem}`);
      const ours = `coap://127.0.0.1:${updraft.options.coapPort}${coapPath(image.product)}`;
      const oursCluster = `coap://127.0.0.1:${cluster.options.coapPort}${coapPath(image.product)}`;
      const problem = await coapProbe(ours, image.bytes, ctx.work);
      const clusterProblem = await coapProbe(oursCluster, image.bytes, ctx.work);
      for (const clients of [1, 16, 64]) {
        // CPU of each server's processes per block it served (coap-client is the harness's child: not counted).
        const download = (pid: number, url: string) => () =>
          withCost(
            [pid],
            () => coapDownloads(url, clients, image.bytes, ctx.work),
            (r) => r.blocks,
          );
        const configs = [
          { key: 'libcoap', run: download(libcoap.proc.pid, libcoap.url) },
          { key: 'floor', run: download(floor.pid, floorUrl) },
        ];
        if (!problem) configs.push({ key: 'updraft', run: download(updraft.proc.pid, ours) });
        if (!clusterProblem) configs.push({ key: 'cluster', run: download(cluster.proc.pid, oursCluster) });
        const results = await interleave(ctx.runs, configs);
        const series = (key: string, label: string): Series => {
          const runs = results.get(key) ?? [];
          const failures = runs.reduce((s, r) => s + r.failures, 0);
          if (failures) notes.push(`${label}, ${clients} clients: ${failures} downloads not byte-identical`);
          return {
            label,
            unit: 'blocks/s',
            values: runs.map((r) => r.blocksPerSec),
            cpu: cpuOf('block', runs),
          };
        };
        const reference = series('libcoap', `libcoap coap-server, ${clients} clients`);
        comparisons.push({
          name: `${clients} client${clients > 1 ? 's' : ''}`,
          ours: problem
            ? { label: 'Updraft (not measured)', unit: 'blocks/s', values: [] }
            : series('updraft', `Updraft, ${clients} clients`),
          reference,
        });
        comparisons.push({
          name: `${clients} client${clients > 1 ? 's' : ''}, --workers ${WORKERS}`,
          ours: clusterProblem
            ? { label: `Updraft --workers ${WORKERS} (not measured)`, unit: 'blocks/s', values: [] }
            : series('cluster', `Updraft --workers ${WORKERS}, ${clients} clients`),
          reference,
          // Issue 16: CoAP on every core (2 here) at least as fast as libcoap's single-threaded server.
          ...(clients === 64 ? { goal: { kind: 'ratio-at-least' as const, value: 1.0 } } : {}),
        });
        // No goal: how much of the gap to libcoap any single-threaded Node.js server has here.
        comparisons.push({
          name: `${clients} client${clients > 1 ? 's' : ''}: floor, bare node:dgram`,
          ours: series('floor', `node:dgram block server, ${clients} clients`),
          reference,
        });
      }
      if (problem) notes.push(`Updraft was not measured: ${problem}`);
      if (clusterProblem) notes.push(`Updraft --workers ${WORKERS} was not measured: ${clusterProblem}`);
      return caseResult(this, ctx, started, {
        commands: [
          'coap-server-notls -A 127.0.0.1 -p <port> -d 10',
          shellLine('coap-client-notls', [
            '-m',
            'put',
            '-b',
            '1024',
            '-f',
            'fw1m.bin',
            'coap://127.0.0.1:<port>/fw.bin',
          ]),
          `${shellLine('coap-client-notls', coapGetArgs('coap://127.0.0.1:<port>/fw.bin', 'out-<i>.bin'))}   # × N at once, each output compared with the image`,
          `${shellLine('coap-client-notls', coapGetArgs(`coap://127.0.0.1:<port>${coapPath(image.product)}`, 'out-<i>.bin'))}`,
          updraft.command,
          cluster.command,
        ],
        comparisons,
        notes,
      });
    } finally {
      await floor?.stop();
      await libcoap?.proc.stop();
      await updraft?.stop();
      await cluster?.stop();
    }
  },
};
