import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Context, interleave, OLDER } from '../lib/context.js';
import { cpuOf, measureCpu, usPer } from '../lib/cpu.js';
import { checkDownload, esp8266Headers } from '../lib/esp.js';
import { runOk } from '../lib/proc.js';
import { caseResult, type BenchCase, type CaseResult, type Comparison, type Series } from '../lib/types.js';
import { publish, ROOT, type Updraft } from '../lib/updraft.js';
import { runWrk } from '../lib/wrk.js';

const MAC = '02:00:00:00:d0:03';
const CONNECTIONS = 16;

/** Starts the throw-away RADOS Gateway (scripts/ceph-rgw.sh); its watchdog stops it if this run dies. */
async function startRgw(dir: string) {
  const script = join(ROOT, 'scripts/ceph-rgw.sh');
  const started = Date.now();
  const { stdout } = await runOk('bash', [script, 'start', dir, '--owner', String(process.pid)]);
  const env = Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as Record<string, string>;
  const rgwPid = Number((await runOk('cat', [join(dir, 'rgw.pid')])).stdout.trim());
  return {
    env,
    rgwPid,
    startS: (Date.now() - started) / 1000,
    stop: () => runOk('bash', [script, 'stop', dir]),
  };
}

/**
 * HTTP downloads of the same 1 MiB and 16 MiB images through Updraft's ESP8266 endpoint, blobs on the filesystem
 * against blobs in S3 (Ceph RGW on this machine), in the same run, interleaved. Twice: with the default memory
 * cache of hot images (both images fit: S3 is read once) and with it off (every download streams from the store).
 * CPU per download (the CPU columns) is Updraft's own, from /proc/<pid>/stat over each wrk run; RGW's, for S3, is
 * its own row (the cost of the store on top).
 */
export const s3Download: BenchCase = {
  id: 's3-download',
  title: 'HTTP download, S3 blob store (RGW) against the filesystem store',
  async run(ctx: Context): Promise<CaseResult> {
    const started = Date.now();
    const commands: string[] = [];
    const notes: string[] = [];
    const comparisons: Comparison[] = [];
    const servers: Updraft[] = [];
    const rgw = await startRgw(join(ctx.work, 'rgw'));
    notes.push(`RADOS Gateway (one-node memstore cluster) started in ${rgw.startS.toFixed(1)} s`);
    try {
      const bucket = 'bench';
      const client = new S3Client({
        endpoint: rgw.env.S3_ENDPOINT,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: {
          accessKeyId: rgw.env.AWS_ACCESS_KEY_ID ?? '',
          secretAccessKey: rgw.env.AWS_SECRET_ACCESS_KEY ?? '',
        },
      });
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      client.destroy();
      const s3Args = ['--blob-store', `s3://${bucket}/bench`, '--s3-endpoint', rgw.env.S3_ENDPOINT ?? ''];
      const s3Env = {
        AWS_ACCESS_KEY_ID: rgw.env.AWS_ACCESS_KEY_ID ?? '',
        AWS_SECRET_ACCESS_KEY: rgw.env.AWS_SECRET_ACCESS_KEY ?? '',
        UPDRAFT_S3_FORCE_PATH_STYLE: 'true',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      };
      const noCache = { UPDRAFT_BLOB_CACHE_BYTES: '0' };
      const configs = [
        { key: 'fs', dir: 'data-fs', args: [], env: {} },
        { key: 's3', dir: 'data-s3', args: s3Args, env: s3Env },
        { key: 'fs-nocache', dir: 'data-fs-nc', args: [], env: noCache },
        { key: 's3-nocache', dir: 'data-s3-nc', args: s3Args, env: { ...s3Env, ...noCache } },
      ];
      const byKey = new Map<string, Updraft>();
      for (const c of configs) {
        const u = await ctx.updraft({
          name: `dl-${c.key}`,
          dataDir: join(ctx.work, c.dir),
          extraArgs: c.args,
          env: c.env,
        });
        servers.push(u);
        byKey.set(c.key, u);
        for (const image of [ctx.images.small, ctx.images.large]) {
          await publish(u, image.product, '2.0.0', image.bytes);
        }
        commands.push(u.command);
      }
      const headers = esp8266Headers(MAC, OLDER);
      for (const image of [ctx.images.small, ctx.images.large]) {
        const size = image.bytes.length >= 16 * 1024 * 1024 ? '16 MiB' : '1 MiB';
        const path = `/${image.product}`;
        for (const u of servers) await checkDownload(u.url + path, headers, image.sha256, ['x-md5']);
        const results = await interleave(
          ctx.runs,
          configs.map((c) => ({
            key: c.key,
            run: async () => {
              const u = byKey.get(c.key) as Updraft;
              // Updraft's tree and, for S3, radosgw's apart: the store's cost is its own row.
              const roots = c.key.startsWith('s3') ? [u.proc.pid, rgw.rgwPid] : [u.proc.pid];
              const { result, ms } = await measureCpu(roots, () =>
                runWrk({
                  url: u.url + path,
                  seconds: ctx.seconds,
                  connections: CONNECTIONS,
                  headers,
                  timeoutSeconds: 60,
                }),
              );
              const [updraftMs = 0, rgwMs] = ms;
              return {
                ...result,
                cpuUs: usPer(updraftMs, result.requests),
                rgwUs: rgwMs === undefined ? Number.NaN : usPer(rgwMs, result.requests),
              };
            },
          })),
        );
        const runsOf = (key: string) => results.get(key) ?? [];
        const series = (key: string, label: string): Series => {
          const runs = runsOf(key);
          const bad = runs.reduce((n, r) => n + r.non2xx3xx + r.socketErrors, 0);
          if (bad) notes.push(`${label}: ${bad} non-2xx or socket errors over ${runs.length} runs`);
          return {
            label,
            unit: 'MiB/s',
            values: runs.map((r) => r.bytesPerSec / 2 ** 20),
            p99Ms: runs.map((r) => r.p99),
            cpu: cpuOf('download', runs),
          };
        };
        const rgwSeries = (key: string, label: string): Series => ({
          label,
          unit: 'CPU µs/download',
          values: runsOf(key).map((r) => r.rgwUs),
        });
        comparisons.push(
          {
            name: `${size}: S3 store against filesystem store (memory cache on, the default)`,
            ours: series('s3', `S3 (RGW), cache on, ${size}`),
            reference: series('fs', `filesystem, cache on, ${size}`),
          },
          {
            name: `${size}: S3 store against filesystem store (memory cache off: streamed from the store)`,
            ours: series('s3-nocache', `S3 (RGW), cache off, ${size}`),
            reference: series('fs-nocache', `filesystem, cache off, ${size}`),
          },
          {
            name: `${size}: RGW CPU per download (cache off)`,
            ours: rgwSeries('s3-nocache', `radosgw, ${size}`),
          },
        );
        commands.push(runsOf('s3')[0]?.command.replace(/:\d+\//, ':<port>/') ?? '');
      }
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      await rgw.stop();
    }
    return caseResult(this, ctx, started, { commands, comparisons, notes });
  },
};
