import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Debian's swupdate (suricatta with the hawkBit module), installed by .ci/run. Tests fail when it is absent. */
export const SWUPDATE = '/usr/bin/swupdate';

export function requireSwupdate(path = SWUPDATE): string {
  if (!existsSync(path))
    throw new Error(`${path} is missing: .ci/run installs it (apt-get install swupdate)`);
  return path;
}

/** A cpio "newc" archive, the container format of a .swu (sw-description first). */
export function cpioNewc(files: { name: string; data: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  const entry = (name: string, data: Buffer, ino: number, mode: number) => {
    const nameBytes = Buffer.from(`${name}\0`);
    const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0];
    const header = Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}`);
    parts.push(header, nameBytes, pad(header.length + nameBytes.length), data, pad(data.length));
  };
  files.forEach((f, i) => entry(f.name, f.data, i + 1, 0o100644));
  entry('TRAILER!!!', Buffer.alloc(0), 0, 0);
  return Buffer.concat(parts);
}

export interface SigningMaterial {
  dir: string;
  cert: string;
  key: string;
}

/** A self-signed signer with the purpose swupdate checks by default (emailProtection). */
export async function makeSigner(dir: string): Promise<SigningMaterial> {
  await mkdir(dir, { recursive: true });
  const key = join(dir, 'signer.key');
  const cert = join(dir, 'signer.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=updraft-test-signer',
      '-addext',
      'extendedKeyUsage=emailProtection',
      '-addext',
      'keyUsage=digitalSignature',
    ],
    { stdio: 'ignore' },
  );
  return { dir, cert, key };
}

/**
 * A signed .swu whose one image is written by the `rawfile` handler to `outPath`: sw-description (libconfig),
 * its CMS signature (`openssl cms -sign … -outform DER -nosmimecap -binary`, §6.6) and the image.
 */
export async function buildSwu(
  signer: SigningMaterial,
  o: { version: string; image: Buffer; outPath: string; hardware?: string; badSignature?: boolean },
): Promise<Buffer> {
  const sha256 = createHash('sha256').update(o.image).digest('hex');
  const description = `software =
{
  version = "${o.version}";
  description = "updraft test image";
  hardware-compatibility: [ "${o.hardware ?? '1.0'}" ];
  files: (
    {
      filename = "image.bin";
      path = "${o.outPath}";
      sha256 = "${sha256}";
      properties = { create-destination = "true"; };
    }
  );
}
`;
  const descPath = join(signer.dir, `sw-description-${o.version}`);
  await writeFile(descPath, description);
  const signed = o.badSignature ? `${description}\n# changed after signing\n` : description;
  const sig = execFileSync('openssl', [
    'cms',
    '-sign',
    '-in',
    descPath,
    '-signer',
    signer.cert,
    '-inkey',
    signer.key,
    '-outform',
    'DER',
    '-nosmimecap',
    '-binary',
  ]);
  return cpioNewc([
    { name: 'sw-description', data: Buffer.from(signed) },
    { name: 'sw-description.sig', data: sig },
    { name: 'image.bin', data: o.image },
  ]);
}

export interface SwupdateRun {
  child: ChildProcess;
  output(): string;
  /** Waits until the output matches, or fails with the output so far. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs swupdate's suricatta as a device would. `TMPDIR` is per instance (its IPC sockets live there). SIGTERM can
 * leave it hung (§6.6): it gets SIGKILL after a moment.
 */
export async function runSwupdate(
  binary: string,
  dir: string,
  args: { config: string; suricatta: string[]; hardware?: string; dryRun?: boolean },
): Promise<SwupdateRun> {
  const tmp = join(dir, `tmp-${Date.now()}-${Math.random().toString(16).slice(2)}`);
  await mkdir(tmp, { recursive: true });
  const argv = [
    '-v',
    '-f',
    args.config,
    '-H',
    `board:${args.hardware ?? '1.0'}`,
    '-u',
    args.suricatta.join(' '),
  ];
  if (args.dryRun) argv.push('-n');
  const child = spawn(binary, argv, {
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return {
    child,
    output: () => out,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`swupdate: no ${pattern} within ${timeoutMs} ms; output:\n${out.slice(-6000)}`));
        }, timeoutMs);
        waiters.add(check);
        child.once('exit', (code) => {
          if (!pattern.test(out)) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`swupdate exited (${code}) before ${pattern}; output:\n${out.slice(-6000)}`));
          }
        });
        check();
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 1500);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * SWUpdate built with the general HTTP server module from Debian's source package by
 * scripts/build-swupdate-general.sh (which .ci/run calls); `UPDRAFT_SWUPDATE_GENERAL` names another build.
 */
export const SWUPDATE_GENERAL =
  process.env.UPDRAFT_SWUPDATE_GENERAL ?? '/var/cache/updraft-swupdate-general/swupdate-general';
