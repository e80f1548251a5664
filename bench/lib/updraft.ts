import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runOk, startProcess, waitFor, type Proc } from './proc.js';

export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef0123456789abcdef';
export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
/** Inside the repository (git- and lint-ignored dist/) so that the compiled files resolve node_modules. */
const COMPILED = join(ROOT, 'dist/bench');

/** Compiles src/ once per run with the build's tsconfig (~20 s). */
export async function compileServer(): Promise<void> {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  await runOk(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', COMPILED], {
    cwd: ROOT,
  });
}

export interface UpdraftOptions {
  name: string;
  dataDir: string;
  httpPort: number;
  /** -1 = off. */
  coapPort: number;
  workers?: number;
  accelRedirectPrefix?: string;
  /** Run src/ through tsx instead of the compiled copy (BENCH_FROM_SOURCES=1). */
  fromSources?: boolean;
  /** Write a V8 CPU profile per process into this folder on exit (BENCH_PROFILE=1). */
  cpuProfDir?: string;
  /** More `serve` flags (the S3 case's blob store). */
  extraArgs?: string[];
  /** More `UPDRAFT_*` settings (a PostgreSQL URL for the replica cases). */
  env?: Record<string, string>;
}

export interface Updraft {
  proc: Proc;
  url: string;
  options: UpdraftOptions;
  command: string;
  api(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

/** The node flags on the CLI's `#!/usr/bin/env -S node …` line. */
export async function serverNodeFlags(): Promise<string[]> {
  const first = (await readFile(join(ROOT, 'src/cli/main.ts'), 'utf8')).split('\n', 1)[0] ?? '';
  const match = /^#!\/usr\/bin\/env -S node((?: --[\w-]+(?:=\S+)?)*)$/.exec(first);
  if (!match) throw new Error(`src/cli/main.ts: unexpected launcher line ${first}`);
  return (match[1] ?? '').split(' ').filter(Boolean);
}

/** `updraft serve` from the sources (tsx), as its own process with its real PID. */
export async function startUpdraft(o: UpdraftOptions): Promise<Updraft> {
  await mkdir(o.dataDir, { recursive: true });
  // The compiled server, as deployed (`node dist/...`) with the V8 flags its launcher line passes (the
  // `updraft` command, `npm start` and the systemd unit all run it through that line); tsx's loader thread
  // alone adds ~50 MB of RSS. BENCH_NODE_ARGS replaces the launcher's flags, to compare others.
  const nodeArgs = o.fromSources ? ['--import', 'tsx'] : [];
  const override = process.env.BENCH_NODE_ARGS;
  nodeArgs.push(...(override !== undefined ? override.split(' ').filter(Boolean) : await serverNodeFlags()));
  if (o.cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`);
  const args = [
    o.fromSources ? 'src/cli/main.ts' : join(COMPILED, 'src/cli/main.js'),
    'serve',
    '--host',
    '127.0.0.1',
    '--http-port',
    String(o.httpPort),
    '--coap-port',
    String(o.coapPort),
    '--data',
    o.dataDir,
    '--log-level',
    'warn',
  ];
  if (o.workers && o.workers > 1) args.push('--workers', String(o.workers));
  if (o.accelRedirectPrefix) args.push('--accel-redirect-prefix', o.accelRedirectPrefix);
  args.push(...(o.extraArgs ?? []));
  const proc = startProcess(o.name, process.execPath, [...nodeArgs, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      UPDRAFT_ADMIN_TOKEN: ADMIN_TOKEN,
      UPDRAFT_WORKERS: '',
      UPDRAFT_COAP_SOURCE_RATE: '0',
      ...o.env,
    },
  });
  const url = `http://127.0.0.1:${o.httpPort}`;
  await waitFor(
    `${o.name} on ${url}`,
    async () => {
      if (proc.exited()) throw new Error(`${o.name} exited:\n${proc.output()}`);
      return (await fetch(`${url}/readyz`)).ok;
    },
    60_000,
  );
  return {
    proc,
    url,
    options: o,
    command: ['node', ...nodeArgs, ...args]
      .join(' ')
      .replace(o.dataDir, '<data>')
      .replace(ROOT + '/', ''),
    api: (path, init = {}) =>
      fetch(`${url}${path}`, {
        ...init,
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.headers as Record<string, string>) },
      }),
    stop: () => proc.stop(),
  };
}

/** Creates a product and publishes one release with a `firmware.bin` artifact. */
export async function publish(u: Updraft, product: string, version: string, image: Buffer): Promise<void> {
  const existing = await u.api(`/api/v1/products/${product}`);
  if (existing.status === 404) {
    const created = await u.api('/api/v1/products', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: product, deviceFamily: 'esp8266' }),
    });
    if (created.status !== 201) throw new Error(`create product: ${created.status} ${await created.text()}`);
  }
  const form = new FormData();
  form.set('version', version);
  form.set('publish', 'true');
  form.set('firmware.bin', new Blob([image]), 'firmware.bin');
  const res = await u.api(`/api/v1/products/${product}/releases`, { method: 'POST', body: form });
  if (res.status !== 201 && res.status !== 409) throw new Error(`publish: ${res.status} ${await res.text()}`);
}

export const blobsDir = (dataDir: string) => join(dataDir, 'blobs');
export const blobUrlPath = (sha256: string) => `/sha256/${sha256.slice(0, 2)}/${sha256}`;
