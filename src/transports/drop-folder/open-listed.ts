import { constants } from 'node:fs';
import { open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import { sep } from 'node:path';

/**
 * Opens a file the scan listed without following a symlink (O_NOFOLLOW), then checks the opened descriptor:
 * a regular file, the size and mtime the scan saw, and (on Linux) a real path inside the folder. A file swapped
 * for a symlink, or a parent folder swapped for one, between listing and opening is refused (issue 13, defect 12).
 */
export async function openListed(
  dir: string,
  file: { path: string; size: number; mtimeMs: number },
): Promise<FileHandle> {
  const handle = await open(file.path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const s = await handle.stat();
    if (!s.isFile() || s.size !== file.size || s.mtimeMs !== file.mtimeMs) {
      throw new Error(`${file.path} changed between listing and opening`);
    }
    const real = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    if (real !== undefined && !real.startsWith((await realpath(dir)) + sep)) {
      throw new Error(`${file.path} resolves outside the drop folder`);
    }
    return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
}
