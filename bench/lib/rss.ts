import { readdirSync, readFileSync } from 'node:fs';

/** VmRSS of one process in bytes, from /proc/<pid>/status; 0 when it is gone. */
function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The PIDs whose parent is `pid` (cluster workers), from /proc/<n>/stat. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 is the parent PID; the command (field 2) may contain spaces, so split after its ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** RSS of a process and its children: one number for a cluster. */
export function treeRss(pid: number): number {
  return [pid, ...childrenOf(pid)].reduce((sum, p) => sum + rssOf(p), 0);
}

/** Samples a process tree's RSS every `intervalMs` until stopped; returns the peak and the samples. */
export function sampleRss(pid: number, intervalMs = 200) {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(treeRss(pid)), intervalMs);
  samples.push(treeRss(pid));
  return {
    stop(): { peak: number; samples: number[] } {
      clearInterval(timer);
      samples.push(treeRss(pid));
      return { peak: Math.max(...samples), samples };
    },
  };
}
