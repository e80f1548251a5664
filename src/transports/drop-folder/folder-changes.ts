import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A folder's modification time, or undefined when it is gone or unreadable. */
export const folderMtime = (dir: string): Promise<number | undefined> =>
  stat(dir).then(
    (s) => s.mtimeMs,
    () => undefined,
  );

/**
 * Which folders hold each product's files, and each folder's modification time when a scan last left it settled
 * (every release file in it imported, refused or unchanged). A folder's mtime changes whenever an entry is
 * created, removed or renamed in it (POSIX `open(O_CREAT)`, `unlink`, `rename`), so one stat per folder tells a
 * request whether a scan would find anything new for its product. A file rewritten in place under the same name
 * leaves the folder's mtime alone; the periodic scan picks that up.
 */
export function createFolderChanges() {
  const settled = new Map<string, number>();
  const foldersOf = new Map<string, string[]>();

  return {
    /**
     * After a scan. `listed`: each folder's mtime, taken before it was listed (a file added after the stat
     * then shows as a change next time, never as settled); `files`: the release files the scan saw;
     * `moving`: folders holding a file that was not yet stable.
     */
    record(
      listed: Map<string, number>,
      files: Iterable<{ path: string; match: { product: string } }>,
      moving: Set<string>,
    ): void {
      settled.clear();
      for (const [dir, mtimeMs] of listed) if (!moving.has(dir)) settled.set(dir, mtimeMs);
      const seen = new Map<string, Set<string>>();
      for (const f of files) {
        const dirs = seen.get(f.match.product) ?? new Set<string>();
        dirs.add(dirname(f.path));
        seen.set(f.match.product, dirs);
      }
      // A product none of whose files are left keeps its folders: a file dropped there again is noticed.
      for (const [product, dirs] of seen) foldersOf.set(product, [...dirs]);
    },

    /** Whether a folder holding the product's files changed since it was settled (one stat per folder). */
    async changed(product: string): Promise<boolean> {
      for (const dir of foldersOf.get(product) ?? []) {
        if ((await folderMtime(dir)) !== settled.get(dir)) return true;
      }
      return false;
    },
  };
}
