import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time per function of one .cpuprofile, as shares of all samples (what `node --cpu-prof` recorded). */
function topFunctions(profile: { nodes: ProfileNode[] }, limit = 25): { name: string; share: number }[] {
  // Shares of busy time: idle and unattributed samples are left out.
  const busy = profile.nodes.filter((n) => !['(idle)', '(program)'].includes(n.callFrame.functionName));
  const total = busy.reduce((s, n) => s + (n.hitCount ?? 0), 0) || 1;
  const byName = new Map<string, number>();
  for (const n of busy) {
    const file = n.callFrame.url.replace(/^.*\/(node_modules|src)\//, '$1/').replace(/^file:\/\//, '');
    const name = `${n.callFrame.functionName || '(anonymous)'} ${file}:${n.callFrame.lineNumber + 1}`;
    byName.set(name, (byName.get(name) ?? 0) + (n.hitCount ?? 0));
  }
  return [...byName.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, hits]) => ({ name, share: hits / total }));
}

/** Writes `<dir>/summary.txt`: the top self-time functions of every profile under `dir`. */
export async function summarizeProfiles(dir: string): Promise<void> {
  const lines: string[] = [];
  for (const server of await readdir(dir).catch(() => [] as string[])) {
    const files = (await readdir(join(dir, server)).catch(() => [] as string[])).filter((f) =>
      f.endsWith('.cpuprofile'),
    );
    for (const f of files) {
      const profile = JSON.parse(await readFile(join(dir, server, f), 'utf8')) as { nodes: ProfileNode[] };
      lines.push(`== ${server}/${f}`);
      for (const t of topFunctions(profile))
        lines.push(`${(t.share * 100).toFixed(1).padStart(5)} %  ${t.name}`);
      lines.push('');
    }
  }
  await writeFile(join(dir, 'summary.txt'), lines.join('\n'));
  console.log(`profiles summarized in ${join(dir, 'summary.txt')}`);
}
