import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

/**
 * SQLite is the single-process default: a second `updraft serve` on the same database file would keep its own
 * caches and run its own drop folder and sweep, and the sweep could delete the first one's upload in progress.
 * So `serve` holds `<database>.lock` (pid and host) while it runs and refuses to start when a live process holds
 * it. A lock left by a process that died (kill -9) is taken over. `--workers N` takes it once, in the primary; its
 * workers share the file by design. Returns the release function.
 */
export function lockSqliteDatabase(databaseUrl: string): () => void {
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return () => undefined;
  const path = databaseUrl.replace(/^sqlite:/, '');
  if (path === ':memory:' || path === '') return () => undefined;
  const lockPath = `${path}.lock`;
  const me = `${process.pid}@${hostname()}`;
  // The first start in a new data folder: the lock comes before the connection that would create the folder.
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o644);
      writeSync(fd, `${me}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(lockPath, 'utf8').trim() === me) unlinkSync(lockPath);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(lockPath);
    if (holder && isAlive(holder)) {
      throw new Error(
        `the database ${path} is in use by another updraft process (pid ${holder.pid} on ${holder.host}). ` +
          'SQLite serves one process: stop the other one, use --workers N for several processes on one ' +
          'machine, or PostgreSQL (--database-url postgres://...) for several replicas. ' +
          `If no such process runs, remove ${lockPath}.`,
      );
    }
    // Left by a process that is gone: take it over.
    try {
      unlinkSync(lockPath);
    } catch {
      // someone else took it over first; the next attempt tells
    }
  }
  throw new Error(`could not lock ${lockPath}: another process is starting on the same database`);
}

function readHolder(lockPath: string): { pid: number; host: string } | undefined {
  try {
    const [pid, host] = readFileSync(lockPath, 'utf8').trim().split('@');
    return { pid: Number(pid), host: host ?? '' };
  } catch {
    return undefined;
  }
}

function isAlive({ pid, host }: { pid: number; host: string }): boolean {
  // A lock from another host (a shared mount) cannot be checked: treat it as held.
  if (host !== hostname()) return true;
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
