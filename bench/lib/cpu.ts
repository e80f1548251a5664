import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on every Linux build Debian ships). */
const TICKS_PER_S = 100;

/** CPU time (user + system) a process has used so far, in ms; 0 when it is gone. */
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

/** The same in seconds. */
export const cpuSeconds = (pid: number): number => cpuMs(pid) / 1000;

/** Measures the CPU ms the processes use, together, while `work` runs. */
export async function cpuDuring<T>(
  pids: number[],
  work: () => Promise<T>,
): Promise<{ result: T; ms: number }> {
  const { result, cpu } = await measureCpu(pids, work);
  return { result, ms: cpu.reduce((sum, s) => sum + s * 1000, 0) };
}

/** The CPU seconds `pids` used while `work` ran, each. */
export async function measureCpu<T>(
  pids: number[],
  work: () => Promise<T>,
): Promise<{ result: T; cpu: number[] }> {
  const before = pids.map(cpuSeconds);
  const result = await work();
  return { result, cpu: pids.map((pid, i) => cpuSeconds(pid) - (before[i] ?? 0)) };
}
