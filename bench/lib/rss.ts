import { readFileSync } from 'node:fs';
import { processTree } from './proc.js';

/** VmRSS of one process in bytes, from /proc/<pid>/status; 0 when it is gone. */
function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** RSS of a process and its descendants: one number for a cluster. */
export function treeRss(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + rssOf(p), 0);
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
