import { runOk } from './proc.js';

export interface WrkOptions {
  url: string;
  seconds: number;
  connections: number;
  threads?: number;
  headers?: Record<string, string>;
  /** Lua script and the arguments after `--`. */
  script?: string;
  scriptArgs?: string[];
  /** wrk counts a response slower than this as a timeout error; 16 MiB to 64 clients can take seconds. */
  timeoutSeconds?: number;
}

export interface WrkResult {
  requestsPerSec: number;
  /** Bytes read per second (headers included), from "N requests in Ts, X read". */
  bytesPerSec: number;
  requests: number;
  /** Latency percentiles in ms (`--latency`). */
  p50: number;
  p99: number;
  non2xx3xx: number;
  socketErrors: number;
  command: string;
}

const UNIT: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const TIME: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function wrkArgs(o: WrkOptions): string[] {
  const args = [
    `-t${o.threads ?? 2}`,
    `-c${o.connections}`,
    `-d${o.seconds}s`,
    '--latency',
    '--timeout',
    `${o.timeoutSeconds ?? 30}s`,
  ];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (o.script) args.push('-s', o.script);
  args.push(o.url);
  if (o.scriptArgs?.length) args.push('--', ...o.scriptArgs);
  return args;
}

/** A shell-quoted command line for the report. */
export function shellLine(command: string, args: string[]): string {
  return [command, ...args]
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

function parseWrk(out: string): Omit<WrkResult, 'command'> {
  const num = (re: RegExp) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : Number.NaN;
  };
  const latency = (pct: string) => {
    const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m ? Number(m[1]) * (TIME[m[2] as string] ?? Number.NaN) : Number.NaN;
  };
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m), ([\d.]+)(B|KB|MB|GB|TB) read/.exec(out);
  const seconds = total ? (Number(total[2]) * (TIME[total[3] as string] ?? Number.NaN)) / 1000 : Number.NaN;
  const bytes = total ? Number(total[4]) * (UNIT[total[5] as string] ?? Number.NaN) : Number.NaN;
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requestsPerSec: num(/Requests\/sec:\s+([\d.]+)/),
    bytesPerSec: bytes / seconds,
    requests: total ? Number(total[1]) : Number.NaN,
    p50: latency('50'),
    p99: latency('99'),
    non2xx3xx: out.includes('Non-2xx') ? num(/Non-2xx or 3xx responses: (\d+)/) : 0,
    socketErrors: errors ? errors.slice(1).reduce((s, n) => s + Number(n), 0) : 0,
  };
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = wrkArgs(o);
  const r = await runOk('wrk', args);
  const parsed = parseWrk(r.stdout);
  if (!Number.isFinite(parsed.requestsPerSec)) throw new Error(`could not parse wrk output:\n${r.stdout}`);
  return { ...parsed, command: shellLine('wrk', args) };
}
