import { Context, interleave, OLDER } from '../lib/context.js';
import { cpuOf, withCost, type Costed } from '../lib/cpu.js';
import { checkDownload, esp8266Headers } from '../lib/esp.js';
import { startNginx } from '../lib/nginx.js';
import { freeTcpPort } from '../lib/proc.js';
import { caseResult, type BenchCase, type CaseResult, type Comparison, type Series } from '../lib/types.js';
import { blobsDir, blobUrlPath, type Updraft } from '../lib/updraft.js';
import { runWrk, type WrkResult } from '../lib/wrk.js';

const MAC = '02:00:00:00:d0:01';
const ACCEL_PREFIX = '/_blobs';

/**
 * HTTP download of the same 1 MiB and 16 MiB files, 64 keep-alive connections: nginx serving the blob file
 * directly (sendfile) against Updraft's ESP8266 endpoint (one process, 2 workers) and Updraft behind nginx with
 * X-Accel-Redirect.
 */
export const httpDownload: BenchCase = {
  id: 'http-download',
  title: 'HTTP download, 64 keep-alive connections',
  async run(ctx: Context): Promise<CaseResult> {
    const started = Date.now();
    // One folder per server: SQLite serves one process.
    const dirs = {
      one: await ctx.privateDataDir(1000, 'http-1'),
      two: await ctx.privateDataDir(1000, 'http-w2'),
      accel: await ctx.privateDataDir(1000, 'http-accel'),
    };
    const servers: Updraft[] = [];
    const commands: string[] = [];
    const notes: string[] = [];
    const comparisons: Comparison[] = [];
    let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
    try {
      const one = await ctx.updraft({ name: 'http-1', dataDir: dirs.one });
      servers.push(one);
      const two = await ctx.updraft({ name: 'http-w2', dataDir: dirs.two, workers: 2 });
      servers.push(two);
      const accel = await ctx.updraft({
        name: 'http-accel',
        dataDir: dirs.accel,
        accelRedirectPrefix: ACCEL_PREFIX,
      });
      servers.push(accel);
      const directPort = await freeTcpPort();
      const accelPort = await freeTcpPort();
      nginx = await startNginx({
        prefix: `${ctx.work}/nginx-http`,
        blobs: blobsDir(dirs.accel),
        directPort,
        accelPort,
        updraftPort: accel.options.httpPort,
        accelPrefix: ACCEL_PREFIX,
      });
      commands.push(
        ...servers.map((s) => s.command),
        `nginx -p <scratch> -c <scratch>/nginx.conf  # ${nginx.conf}`,
      );
      const headers = esp8266Headers(MAC, OLDER);

      for (const image of [ctx.images.small, ctx.images.large]) {
        const direct = `http://127.0.0.1:${directPort}${blobUrlPath(image.sha256)}`;
        const path = `/${image.product}`;
        await checkDownload(direct, {}, image.sha256);
        await checkDownload(one.url + path, headers, image.sha256, ['x-md5']);
        await checkDownload(two.url + path, headers, image.sha256, ['x-md5']);
        const viaNginx = await checkDownload(`http://127.0.0.1:${accelPort}${path}`, headers, image.sha256, [
          'x-md5',
          'x-version',
          'content-disposition',
        ]);
        if (viaNginx.get('content-length') !== String(image.bytes.length)) {
          throw new Error(`behind nginx: Content-Length ${viaNginx.get('content-length')}`);
        }
        // CPU of the process trees of `servers` per download wrk counted.
        const wrk =
          (servers: number[], url: string, h: Record<string, string> = {}) =>
          () =>
            withCost(
              servers,
              () => runWrk({ url, seconds: ctx.seconds, connections: 64, headers: h }),
              (r) => r.requests,
            );
        const nginxPid = nginx.proc.pid;
        const results = await interleave(ctx.runs, [
          { key: 'nginx', run: wrk([nginxPid], direct) },
          { key: 'updraft-1', run: wrk([one.proc.pid], one.url + path, headers) },
          { key: 'updraft-w2', run: wrk([two.proc.pid], two.url + path, headers) },
          // The deployment's cost: Updraft's redirect answer and nginx proxying it and sending the file.
          {
            key: 'updraft-accel',
            run: wrk([accel.proc.pid, nginxPid], `http://127.0.0.1:${accelPort}${path}`, headers),
          },
        ]);
        const size = image.bytes.length >= 16 * 1024 * 1024 ? '16 MiB' : '1 MiB';
        const series = (key: string, label: string): Series => {
          const runs = results.get(key) as Costed<WrkResult>[];
          const non2xx = runs.reduce((n, r) => n + r.non2xx3xx, 0);
          const errors = runs.reduce((n, r) => n + r.socketErrors, 0);
          if (non2xx || errors)
            notes.push(`${label}: ${non2xx} non-2xx, ${errors} socket errors over ${runs.length} runs`);
          return {
            label,
            unit: 'MiB/s',
            values: runs.map((r) => r.bytesPerSec / 2 ** 20),
            p99Ms: runs.map((r) => r.p99),
            cpu: cpuOf('download', runs),
          };
        };
        const reference = series('nginx', `nginx sendfile, ${size}`);
        // Issue 16's goal for serving directly (issue 7 asked for 0.5x); behind nginx, 0.9x.
        const directGoal = { kind: 'ratio-at-least', value: 0.8 } as const;
        comparisons.push(
          {
            name: `${size}: Updraft, 1 process`,
            ours: series('updraft-1', `Updraft 1 process, ${size}`),
            reference,
            goal: directGoal,
          },
          {
            name: `${size}: Updraft, --workers 2`,
            ours: series('updraft-w2', `Updraft 2 workers, ${size}`),
            reference,
            goal: directGoal,
          },
          {
            name: `${size}: Updraft behind nginx, X-Accel-Redirect`,
            ours: series('updraft-accel', `nginx → Updraft (X-Accel-Redirect; CPU: both), ${size}`),
            reference,
            goal: { kind: 'ratio-at-least', value: 0.9 },
          },
        );
        commands.push(
          (results.get('nginx') as WrkResult[])[0]?.command ?? '',
          (results.get('updraft-1') as WrkResult[])[0]?.command.replace(/:\d+\//, ':<port>/') ?? '',
        );
      }
    } finally {
      await nginx?.proc.stop();
      await Promise.all(servers.map((s) => s.stop()));
    }
    return caseResult(this, ctx, started, {
      commands,
      comparisons,
      notes,
    });
  },
};
