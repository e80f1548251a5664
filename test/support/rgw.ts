import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/** A running S3 server (Ceph RADOS Gateway) and credentials of a user on it. */
export interface Rgw {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** A bucket the script created; tests should use their own from `createBucket`. */
  bucket: string;
}

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../../scripts/ceph-rgw.sh');
const START_TIMEOUT_MS = 180_000;

/** Start time of a process in clock ticks since boot: with the pid, a key that a reused pid cannot collide with. */
function startTicks(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '0';
}

/**
 * Who the shared cluster belongs to: under `node --test` every test file is a child of the runner, so all files
 * of one run share one cluster, stopped by the script's watchdog once the runner exits. Run alone, a file owns
 * its cluster.
 */
function owner(): number {
  return process.env.NODE_TEST_CONTEXT ? process.ppid : process.pid;
}

function parseEnv(text: string): Rgw {
  const env = Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  ) as Record<string, string>;
  return {
    endpoint: env.S3_ENDPOINT ?? '',
    region: env.S3_REGION ?? 'us-east-1',
    accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
    bucket: env.S3_BUCKET ?? 'updraft',
  };
}

function runScript(dir: string, ownerPid: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT, 'start', dir, '--owner', String(ownerPid)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`scripts/ceph-rgw.sh failed (${code}): ${stderr.trim()}`)),
    );
  });
}

async function waitForEnv(dir: string): Promise<Rgw> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const text = await readFile(join(dir, 'env'), 'utf8').catch(() => undefined);
    if (text) return parseEnv(text);
    // The starter removes the folder when it fails: stop waiting for it.
    if (!(await stat(dir).catch(() => undefined)))
      throw new Error('the shared RADOS Gateway failed to start');
    if (Date.now() > deadline) throw new Error(`RADOS Gateway in ${dir} did not start in time`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

let shared: Promise<Rgw> | undefined;

/**
 * The RADOS Gateway of this test run, started on first use (about 15 s) and shared by every test file of the run:
 * the first file to get here creates the folder (mkdir is the lock) and starts it, the others wait for its `env`
 * file. `UPDRAFT_TEST_S3_ENDPOINT` (+ `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`) points at a running server
 * instead.
 */
export function rgw(): Promise<Rgw> {
  shared ??= (async () => {
    const external = process.env.UPDRAFT_TEST_S3_ENDPOINT;
    if (external) {
      return {
        endpoint: external,
        region: process.env.UPDRAFT_TEST_S3_REGION ?? 'us-east-1',
        accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '',
        secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
        bucket: process.env.UPDRAFT_TEST_S3_BUCKET ?? 'updraft',
      };
    }
    const ownerPid = owner();
    const dir = join(tmpdir(), `updraft-rgw-${ownerPid}-${startTicks(ownerPid)}`);
    const mine = await mkdir(dir).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'EEXIST') return false;
        throw err;
      },
    );
    if (mine) await runScript(dir, ownerPid);
    return waitForEnv(dir);
  })();
  return shared;
}

/** An S3 client for the test server, with the settings RGW 16 needs (see docs/storage.md). */
export function rgwClient(server: Rgw, credentials?: { accessKeyId: string; secretAccessKey: string }) {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: credentials ?? { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** A fresh bucket, so that test files sharing the server never see each other's objects. */
export async function createBucket(server: Rgw, prefix = 'test'): Promise<string> {
  const name = `${prefix}-${randomBytes(6).toString('hex')}`;
  const client = rgwClient(server);
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    client.destroy();
  }
  return name;
}
