import { readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** User + system CPU seconds a process has used, from fields 14 and 15 of /proc/<pid>/stat; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
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
