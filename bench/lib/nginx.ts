import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startProcess, waitFor, type Proc } from './proc.js';

const TEMPLATES = new URL('../nginx/', import.meta.url);

export interface NginxOptions {
  /** Scratch folder: config, pid, logs, temp paths. */
  prefix: string;
  /** `<data>/blobs` of the Updraft server: the direct server's root and the internal location's alias. */
  blobs: string;
  directPort: number;
  accelPort: number;
  updraftPort: number;
  /** The `--accel-redirect-prefix` of the Updraft behind nginx. */
  accelPrefix: string;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
    const v = values[k];
    if (v === undefined) throw new Error(`nginx template: no value for ${k}`);
    return v;
  });
}

async function writeNginxConfig(o: NginxOptions): Promise<string> {
  await mkdir(o.prefix, { recursive: true });
  const values = {
    PREFIX: o.prefix,
    BLOBS: o.blobs,
    DIRECT_PORT: String(o.directPort),
    ACCEL_PORT: String(o.accelPort),
    UPDRAFT_PORT: String(o.updraftPort),
    PREFIX_PATH: o.accelPrefix,
    // As root, nginx's workers would run as nobody and could not read a private data folder.
    USER: process.getuid?.() === 0 ? 'user root;' : '',
  };
  const location = fill(await readFile(new URL('accel-location.conf.template', TEMPLATES), 'utf8'), values);
  const conf = fill(await readFile(new URL('bench.conf.template', TEMPLATES), 'utf8'), {
    ...values,
    ACCEL_LOCATION: location.trimEnd(),
  });
  const path = join(o.prefix, 'nginx.conf');
  await writeFile(path, conf);
  return path;
}

/** Starts nginx in the foreground (`daemon off`), so the PID is the master's; SIGTERM stops it. */
export async function startNginx(o: NginxOptions): Promise<{ proc: Proc; conf: string }> {
  const conf = await writeNginxConfig(o);
  // Debian installs nginx in /usr/sbin, which is not on every user's PATH.
  const bin = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
  const proc = startProcess('nginx', bin, ['-p', o.prefix, '-c', conf]);
  await waitFor('nginx', async () => {
    if (proc.exited()) throw new Error(`nginx exited: ${proc.output()}`);
    return (await fetch(`http://127.0.0.1:${o.directPort}/`)).status > 0;
  });
  return { proc, conf };
}
