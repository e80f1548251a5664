import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { loadConfig, type Config } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { createLogger } from '../../src/app/logger.js';
import { cliCommand } from './server-bundle.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef0123456789abcdef';

/**
 * Runs blob garbage collection as if its grace period had passed: one pass notes the orphans, a second one a
 * grace period later deletes them. What the collector must keep (releases, uploads in progress) stays. Test
 * servers use a grace of a second, far below the 10 minutes an upload's hold lasts between renewals.
 */
export async function collectGarbage(server: RunningServer): Promise<void> {
  const now = Date.now();
  await server.runBlobGc(new Date(now));
  await server.runBlobGc(new Date(now + server.config.blobGcGraceMs + 1));
}

export async function tempDir(prefix = 'updraft-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export interface TestServer extends RunningServer {
  url: string;
  dataDir: string;
  /** fetch against the server with the admin token. */
  api(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Starts the real server in this process on free ports (HTTP on 127.0.0.1, CoAP off unless asked), with a
 * fresh data folder. End-to-end tests that need a separate process (kill -9) use `spawnServer`.
 */
export async function startTestServer(overrides: Partial<Config> = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? (await tempDir());
  const config = loadConfig(
    {
      httpPort: 0,
      coapPort: -1,
      host: '127.0.0.1',
      dataDir,
      adminToken: ADMIN_TOKEN,
      logLevel: 'silent',
      flushIntervalMs: 50,
      blobGcGraceMs: 1000,
      // Block-wise suites fetch tens of thousands of blocks from 127.0.0.1; test/hardening sets its own limit.
      coapSourceRate: 0,
      ...overrides,
    },
    {},
  );
  const server = await startServer(config, createLogger(config.logLevel));
  const url = `http://127.0.0.1:${server.httpPort}`;
  return {
    ...server,
    url,
    dataDir,
    api: (path, init = {}) =>
      fetch(`${url}${path}`, {
        ...init,
        headers: {
          Authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(init.headers as Record<string, string> | undefined),
        },
      }),
    async close() {
      await server.stop();
      if (!overrides.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  return port;
}

export interface SpawnedServer {
  child: ChildProcess;
  url: string;
  port: number;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `updraft serve` as its own process (src/ bundled once, see server-bundle.ts), waiting until /healthz answers. */
export async function spawnServer(
  dataDir: string,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
  { startTimeoutMs = 30_000, cwd }: { startTimeoutMs?: number; cwd?: string } = {},
): Promise<SpawnedServer> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...cliCommand(),
      'serve',
      '--http-port',
      String(port),
      '--host',
      '127.0.0.1',
      '--coap-port',
      '-1',
      '--data',
      dataDir,
      ...extraArgs,
    ],
    {
      env: { ...process.env, UPDRAFT_ADMIN_TOKEN: ADMIN_TOKEN, UPDRAFT_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd,
    },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${out}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      // Not left running: its pipes would keep the test process alive until the runner's timeout.
      child.kill('SIGKILL');
      throw new Error(`server did not start in ${startTimeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    url,
    port,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit') as Promise<[number | null]>;
      child.kill(signal);
      const [code] = await exited;
      return code;
    },
  };
}

/** Builds a multipart body for fetch: fields first, then files (name → bytes). */
export function releaseForm(
  version: string,
  files: Record<string, Buffer>,
  fields: Record<string, string> = {},
): FormData {
  const form = new FormData();
  form.set('version', version);
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  for (const [name, bytes] of Object.entries(files)) form.set(name, new Blob([bytes]), name);
  return form;
}

/** Creates a product and publishes a release through the API. */
export async function publishRelease(
  server: TestServer,
  product: string,
  version: string,
  files: Record<string, Buffer>,
  productFields: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const existing = await server.api(`/api/v1/products/${product}`);
  if (existing.status === 404) {
    const created = await server.api('/api/v1/products', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: product, ...productFields }),
    });
    if (created.status !== 201) throw new Error(`create product: ${created.status} ${await created.text()}`);
  }
  const res = await server.api(`/api/v1/products/${product}/releases`, {
    method: 'POST',
    body: releaseForm(version, files, { publish: 'true' }),
  });
  if (res.status !== 201) throw new Error(`publish: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}
