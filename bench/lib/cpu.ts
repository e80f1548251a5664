import { readFileSync } from 'node:fs';
import { processTree } from './proc.js';

/**
 * What a server costs: CPU time (user + system) from /proc/<pid>/stat, summed over each server's process tree
 * (nginx's master and workers, Updraft's primary and cluster workers; threads are inside their process's figure).
 * The load generators (wrk, coap-client) are children of the harness, not of a server, so they never count.
 */

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on every Linux build Debian ships). */
const TICKS_PER_S = 100;

/** CPU time (user + system) one process has used so far, in ms; 0 when it is gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields 14 and 15 (utime, stime); the command (field 2) may contain spaces, so split after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

/** CPU ms so far of every process in the tree of `root`, by PID. */
function snapshot(root: number): Map<number, number> {
  return new Map(processTree(root).map((pid) => [pid, cpuMs(pid)]));
}

export interface CpuUse<T> {
  result: T;
  /** CPU ms each root's process tree used while the work ran, in the order of `roots`. */
  ms: number[];
  /** Their sum. */
  totalMs: number;
}

/**
 * Runs `work` and measures the CPU ms the process trees of `roots` used meanwhile. A process that starts during
 * the work counts from 0; one that ends during it is lost (servers here keep their workers for the whole run).
 */
export async function measureCpu<T>(roots: number[], work: () => Promise<T>): Promise<CpuUse<T>> {
  const before = roots.map(snapshot);
  const result = await work();
  const ms = roots.map((root, i) => {
    let used = 0;
    for (const [pid, now] of snapshot(root)) used += now - (before[i]?.get(pid) ?? 0);
    return used;
  });
  return { result, ms, totalMs: ms.reduce((a, b) => a + b, 0) };
}

/** µs of CPU per unit of work (request, block, download), NaN when no unit was done. */
export const usPer = (ms: number, units: number): number => (units > 0 ? (ms * 1000) / units : Number.NaN);

/** A load run's result with the CPU µs the measured servers spent per unit of work in it. */
export type Costed<T> = T & { cpuUs: number };

/** Runs `work`, measuring the process trees of `roots`; `units` says how many requests/blocks it served. */
export async function withCost<T extends object>(
  roots: number[],
  work: () => Promise<T>,
  units: (result: T) => number,
): Promise<Costed<T>> {
  const { result, totalMs } = await measureCpu(roots, work);
  return { ...result, cpuUs: usPer(totalMs, units(result)) };
}

/** The `cpu` field of a Series from costed runs. */
export const cpuOf = (per: string, runs: readonly { cpuUs: number }[]) => ({
  per,
  us: runs.map((r) => r.cpuUs),
});
