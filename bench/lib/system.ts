import { cpus, totalmem, release } from 'node:os';
import { readFileSync } from 'node:fs';
import { run, runOk } from './proc.js';

const TOOLS: Record<string, string> = {
  nginx: 'nginx',
  wrk: 'wrk',
  'coap-client-notls': 'libcoap3-bin',
  'coap-server-notls': 'libcoap3-bin',
};

async function has(binary: string): Promise<boolean> {
  return (await run('sh', ['-c', `command -v ${binary}`])).code === 0;
}

/** Installs the reference servers and load tools from Debian when missing (apt-get update once). */
export async function ensureTools(): Promise<void> {
  const missing = new Set<string>();
  for (const [binary, pkg] of Object.entries(TOOLS)) if (!(await has(binary))) missing.add(pkg);
  if (missing.size === 0) return;
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const apt = (args: string[]) =>
    sudo.length
      ? runOk('sudo', ['apt-get', ...args])
      : runOk('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  console.log(`installing ${[...missing].join(' ')} from Debian`);
  await apt(['update']);
  await apt(['install', '-y', 'nginx', 'wrk', 'libcoap3-bin']);
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  os: string;
  node: string;
  nginx: string;
  wrk: string;
  libcoap: string;
  loadAverageAtStart: string;
}

export async function machine(): Promise<Machine> {
  const osRelease = (() => {
    try {
      return /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'unknown';
    } catch {
      return 'unknown';
    }
  })();
  const nginx = (await run('nginx', ['-v'])).stderr.trim().replace('nginx version: ', '');
  const wrk = (await run('wrk', ['-v'])).stdout.split('\n')[0]?.replace(/ Copyright.*/, '') ?? '';
  const libcoap = (await run('dpkg-query', ['-W', '-f', '${Version}', 'libcoap3-bin'])).stdout.trim();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    os: osRelease,
    node: process.version,
    nginx,
    wrk,
    libcoap: libcoap ? `libcoap3-bin ${libcoap}` : 'unknown',
    loadAverageAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}
