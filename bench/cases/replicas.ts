import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { Context, interleave, PUBLISHED } from '../lib/context.js';
import { esp8266Headers } from '../lib/esp.js';
import { freeTcpPort, startProcess, waitFor, type Proc } from '../lib/proc.js';
import { caseResult, type BenchCase, type CaseResult } from '../lib/types.js';
import { publish, type Updraft } from '../lib/updraft.js';
import { check304, checkInLoad, toSeries } from './esp8266-304.js';

const PG_BASE = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** nginx balancing over `ports`, as docs/deployment.md's production layout (one worker: it is not measured). */
async function balancer(prefix: string, ports: number[]): Promise<{ proc: Proc; url: string }> {
  await mkdir(prefix, { recursive: true });
  const port = await freeTcpPort();
  const conf = `${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  upstream updraft {
${ports.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://updraft;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_buffering off;
    }
  }
}
`;
  await writeFile(join(prefix, 'nginx.conf'), conf);
  const proc = startProcess('nginx-replicas', 'nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('nginx (replicas)', async () => (await fetch(`${url}/healthz`)).ok, 10_000);
  return { proc, url };
}

/**
 * ESP8266 check-ins (304, 1,000 devices) through nginx to one replica, and to two replicas, on one PostgreSQL
 * schema. On this 2-core machine, which also runs wrk, nginx and PostgreSQL, two replicas cannot double the rate;
 * the CPU time the Updraft processes spend per request (from /proc/<pid>/stat) shows what a replica costs.
 */
export const replicaCheckIns: BenchCase = {
  id: 'replicas-check-in',
  title: 'Check-ins through two replicas against one (PostgreSQL, nginx in front)',
  async run(ctx: Context): Promise<CaseResult> {
    const started = Date.now();
    const schema = `updraft_bench_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_BASE });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    const url = `${PG_BASE}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const dataDir = join(ctx.work, 'replicas-data');
    const servers: Updraft[] = [];
    const balancers: Proc[] = [];
    const notes: string[] = [];
    try {
      const env = { UPDRAFT_DATABASE_URL: url };
      const first = await ctx.updraft({ name: 'replica-1', dataDir, env });
      servers.push(first);
      await publish(first, ctx.images.small.product, PUBLISHED, ctx.images.small.bytes);
      const second = await ctx.updraft({ name: 'replica-2', dataDir, env });
      servers.push(second);
      const one = await balancer(join(ctx.work, 'nginx-replicas-1'), [first.options.httpPort]);
      balancers.push(one.proc);
      const two = await balancer(join(ctx.work, 'nginx-replicas-2'), [
        first.options.httpPort,
        second.options.httpPort,
      ]);
      balancers.push(two.proc);
      const product = `/${ctx.images.small.product}`;
      for (const u of [one.url, two.url])
        await check304(u + product, esp8266Headers('02:00:00:00:00:01', PUBLISHED));
      // Both replicas run in both configurations (one idles behind the single-upstream nginx): measure both.
      const pids = servers.map((s) => s.proc.pid);
      const results = await interleave(ctx.runs, [
        { key: 'one', run: checkInLoad(ctx, one.url + product, 1000, pids) },
        { key: 'two', run: checkInLoad(ctx, two.url + product, 1000, pids) },
      ]);
      const oneRuns = results.get('one') ?? [];
      const twoRuns = results.get('two') ?? [];
      for (const [key, runs] of [
        ['one', oneRuns],
        ['two', twoRuns],
      ] as const) {
        const bad = runs.reduce((s, r) => s + r.non2xx3xx, 0);
        if (bad) notes.push(`${key}: ${bad} answers other than 2xx/3xx`);
      }
      notes.push(
        'Both replicas run with UPDRAFT_DATABASE_URL=<postgres>/test?options=-c search_path=<fresh schema> and one shared --data folder; nginx: worker_processes 1, upstream = the replicas, keepalive 64.',
        'CPU per check-in is user + system time of both Updraft processes (not nginx, not PostgreSQL) divided by the requests wrk counted.',
      );
      return caseResult(this, ctx, started, {
        commands: [
          first.command,
          second.command,
          oneRuns[0]?.command.replace(/\/\S+\/bench\/wrk/, 'bench/wrk') ?? '',
        ],
        comparisons: [
          {
            name: 'two replicas vs one (req/s)',
            ours: toSeries('2 replicas', 'req/s', twoRuns, notes, 'check-in'),
            reference: toSeries('1 replica', 'req/s', oneRuns, notes, 'check-in'),
          },
        ],
        notes,
      });
    } finally {
      await Promise.all(balancers.map((b) => b.stop()));
      await Promise.all(servers.map((s) => s.stop()));
      await admin.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
      await admin.end();
    }
  },
};
