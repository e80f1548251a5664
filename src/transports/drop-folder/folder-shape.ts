import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * Where the seeds' layouts start inside the folder an operator points at. Each seed was pointed at a folder at
 * its own level, and the operator may give Updraft either that folder or the one around it:
 * - devtank (ESP-AT): the working folder that holds `partitions/`, or `partitions/` itself;
 * - firmwaremodules (STM32): the folder that holds `updates/`, or `updates/` itself;
 * - ruslan-kornich (simple polling): the repository root (files under `ota_server/`), or `ota_server/` itself;
 * - sglahn (ESP8266): its `--dir`, files at the top.
 * The layouts match *logical* paths (`partitions/v1/ota.bin`); this maps them to and from the files' real paths.
 */
export interface FolderShape {
  toLogical(relative: string): string;
  toPhysical(logical: string): string;
}

const SELF_NAMED = ['partitions', 'updates'];
const RUSLAN_ROOT = 'ota_server';

const isDir = (path: string): boolean => existsSync(path) && statSync(path).isDirectory();

export function folderShape(dir: string): FolderShape {
  const name = basename(dir);
  if (SELF_NAMED.includes(name)) {
    return {
      toLogical: (rel) => `${name}/${rel}`,
      toPhysical: (logical) => (logical.startsWith(`${name}/`) ? logical.slice(name.length + 1) : logical),
    };
  }
  if (isDir(join(dir, RUSLAN_ROOT, 'firmware')) || isDir(join(dir, RUSLAN_ROOT, 'version'))) {
    const prefix = `${RUSLAN_ROOT}/`;
    return {
      toLogical: (rel) => (rel.startsWith(prefix) ? rel.slice(prefix.length) : rel),
      toPhysical: (logical) =>
        logical.startsWith('firmware/') || logical.startsWith('version/') ? `${prefix}${logical}` : logical,
    };
  }
  return { toLogical: (rel) => rel, toPhysical: (logical) => logical };
}
