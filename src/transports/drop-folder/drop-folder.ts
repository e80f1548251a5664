import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { lstat, readdir, type FileHandle } from 'node:fs/promises';
import { openListed } from './open-listed.js';
import { folderShape, type FolderShape } from './folder-shape.js';
import { join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Services } from '../../core/services.js';
import type { Release } from '../../core/catalog/types.js';
import { isDomainError } from '../../core/errors.js';
import { normalizeVersion } from '../../core/versions/release-version.js';
import { dropLayouts, type DropFolderView, type DropLayout, type LayoutMatch } from './layouts.js';

interface FileState {
  path: string;
  size: number;
  mtimeMs: number;
  match: LayoutMatch;
}

const SOURCE_KEY = 'drop-folder:';
/**
 * Marks a release this folder holds back (imported as a draft or revoked because a layout says so, or revoked
 * because its file was removed), so that only such a release is published again, never one an operator revoked.
 */
const HELD_KEY = 'drop-folder-held:';

async function walk(dir: string, depth = 0): Promise<string[]> {
  if (depth > 4) return [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(
    entries.map((e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return walk(path, depth + 1);
      return e.isFile() && !e.name.startsWith('.') ? [path] : [];
    }),
  );
  return nested.flat();
}

/** One file per artifact: the most recently modified (the first by path on a tie). */
function chosenFiles(files: FileState[]): FileState[] {
  const byArtifact = new Map<string, FileState>();
  for (const f of files) {
    const seen = byArtifact.get(f.match.artifact);
    if (!seen || f.mtimeMs > seen.mtimeMs) byArtifact.set(f.match.artifact, f);
  }
  return [...byArtifact.values()];
}

/** The version a group is keyed by: two spellings of one version (`1.0.0`, `v1.0.0`) are one release. */
function groupVersion(version: string): string {
  try {
    return normalizeVersion(version);
  } catch {
    return version;
  }
}

/**
 * Imports releases from a folder and keeps watching it by polling (robust on every filesystem, network
 * mounts included). A file is imported once its size and mtime are unchanged across two scans, so a copy in
 * progress is never published half-written. Removing every file of a release revokes it. Names that fit no
 * layout are logged once and skipped.
 */
export function createDropFolder(
  services: Pick<Services, 'products' | 'releases' | 'settings'>,
  options: { dir: string; logger: Logger; intervalMs?: number; layouts?: DropLayout[] },
) {
  // Absolute: a relative folder (`--firmware-dir .` run inside `partitions/`) would hide its own name from
  // folderShape, and the recorded source paths (which revoke a removed file's release) would depend on the cwd.
  const dir = resolve(options.dir);
  const { logger } = options;
  const layouts = options.layouts ?? dropLayouts;
  const previous = new Map<string, FileState>();
  const skipped = new Set<string>();
  const failed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const handled = new Map<string, string>();
  let firstScan = true;
  let running: Promise<void> | undefined;

  function matchOf(rel: string, folder: DropFolderView): LayoutMatch | 'auxiliary' | undefined {
    for (const layout of layouts) {
      const m = layout.match(rel, folder);
      if (m) return m;
    }
    return undefined;
  }

  /** Small side files a layout reads (the simple-polling seed's version.txt), read at most once per scan. */
  function folderView(shape: FolderShape): DropFolderView {
    const texts = new Map<string, string | undefined>();
    return {
      readText(rel) {
        if (!texts.has(rel)) {
          let text: string | undefined;
          try {
            text = readFileSync(join(dir, shape.toPhysical(rel)), 'utf8').slice(0, 4096);
          } catch {
            text = undefined;
          }
          texts.set(rel, text);
        }
        return texts.get(rel);
      },
    };
  }

  /** Whether the release holds exactly these files (by artifact name and content). */
  async function sameContent(release: Release, chosen: FileState[]): Promise<boolean> {
    if (release.artifacts.length !== chosen.length) return false;
    for (const f of chosen) {
      const artifact = release.artifacts.find((a) => a.name === f.match.artifact);
      if (!artifact || artifact.size !== f.size) return false;
      const handle = await openListed(dir, f);
      try {
        const hash = createHash('sha256');
        for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
        if (hash.digest('hex') !== artifact.sha256) return false;
      } finally {
        await handle.close();
      }
    }
    return true;
  }

  async function importGroup(key: string, all: FileState[]): Promise<void> {
    // Two spellings of one version (`firmware_1.0.0.bin`, `firmware_v1.0.0.bin`) name the same artifact: the
    // newest file is the release's content, as the seeds served whatever file was there last; every path is
    // recorded as a source, so removing one spelling does not revoke the release (issue 13, defect 12).
    const files = chosenFiles(all);
    const first = files[0];
    if (!first) return;
    const { product, version, deviceFamily } = first.match;
    let normalised: string;
    try {
      normalised = normalizeVersion(version);
    } catch {
      if (!skipped.has(key))
        logger.warn({ files: files.map((f) => f.path) }, 'drop folder: not a version, skipped');
      skipped.add(key);
      return;
    }
    // A layout may hold a release back (publish: false), e.g. one newer than the seed's version.txt names.
    const publish = first.match.publish !== false;
    let existing = await services.releases.find(product, version);
    const sources = all.map((f) => f.path).join('\n');
    if (existing && existing.notes.startsWith('imported from')) {
      const heldKey = `${HELD_KEY}${product}@${existing.version}`;
      const operatorRevoked = existing.state === 'revoked' && !(await services.settings.get(heldKey));
      // The folder is the source of truth for what it imported: a file whose bytes changed replaces the release.
      if (!operatorRevoked && !(await sameContent(existing, files))) {
        await services.releases.delete(product, existing.version);
        await services.settings.delete(heldKey);
        logger.info({ product, version: existing.version }, 'drop folder: file changed, release replaced');
        existing = undefined;
      }
    }
    if (existing) {
      const imported = existing.notes.startsWith('imported from');
      const heldKey = `${HELD_KEY}${product}@${existing.version}`;
      // Only a release this folder revoked comes back; one an operator revoked stays revoked.
      if (imported && publish && existing.state !== 'published' && (await services.settings.get(heldKey))) {
        await services.releases.publish(product, existing.version);
        await services.settings.delete(heldKey);
        logger.info({ product, version: existing.version }, 'drop folder: release published (again)');
      } else if (imported && !publish && existing.state === 'published') {
        await services.releases.revoke(product, existing.version);
        await services.settings.set(heldKey, 'layout');
        logger.info(
          { product, version: existing.version },
          'drop folder: layout holds the release back, revoked',
        );
      }
      await services.settings.set(`${SOURCE_KEY}${product}@${existing.version}`, sources);
      return;
    }
    await services.products.ensure(product, {
      deviceFamily: deviceFamily ?? '',
      description: 'created by the drop folder',
    });
    const unique = files;
    const handles: FileHandle[] = [];
    let release;
    try {
      const sources: Readable[] = [];
      for (const f of unique) {
        const handle = await openListed(dir, f);
        handles.push(handle);
        sources.push(handle.createReadStream({ autoClose: false }));
      }
      release = await services.releases.create(
        { product, version, publish, notes: `imported from ${relative(dir, first.path)}` },
        unique.map((f, i) => ({ name: f.match.artifact, source: sources[i] as Readable })),
      );
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
    await services.settings.set(`${SOURCE_KEY}${product}@${normalised}`, sources);
    if (!publish) await services.settings.set(`${HELD_KEY}${product}@${release.version}`, 'layout');
    logger.info({ product, version: release.version, files: files.length }, 'drop folder: release imported');
  }

  async function revokeRemoved(present: Set<string>): Promise<void> {
    for (const [key, value] of await services.settings.list(SOURCE_KEY)) {
      const paths = value.split('\n');
      if (!paths.every((p) => p.startsWith(dir + sep))) continue;
      if (paths.some((p) => present.has(p))) continue;
      const [product, version] = key.slice(SOURCE_KEY.length).split('@') as [string, string];
      const release = await services.releases.find(product, version);
      if (release && release.state === 'published') {
        await services.releases.revoke(product, version);
        await services.settings.set(`${HELD_KEY}${product}@${release.version}`, 'removed');
        logger.info({ product, version }, 'drop folder: file removed, release revoked');
      }
    }
  }

  async function scan(): Promise<void> {
    const paths = await walk(dir);
    const now = new Map<string, FileState>();
    const shape = folderShape(dir);
    const folder = folderView(shape);
    for (const path of paths) {
      const rel = shape.toLogical(relative(dir, path).split(sep).join('/'));
      const match = matchOf(rel, folder);
      if (match === 'auxiliary') continue;
      if (!match) {
        if (!skipped.has(path)) logger.warn({ file: rel }, 'drop folder: name fits no layout, skipped');
        skipped.add(path);
        continue;
      }
      const s = await lstat(path).catch(() => undefined);
      if (s?.isFile()) now.set(path, { path, size: s.size, mtimeMs: s.mtimeMs, match });
    }
    const groups = new Map<string, FileState[]>();
    for (const file of now.values()) {
      const key = `${file.match.product}@${groupVersion(file.match.version)}`;
      groups.set(key, [...(groups.get(key) ?? []), file]);
    }
    for (const files of groups.values()) files.sort((a, b) => (a.path < b.path ? -1 : 1));
    // Oldest files first: opaque versions (`test`, `2024-05-16`) are ordered by when they were imported, so a
    // folder imported at once keeps the order in which its files were written (docs/versions.md).
    const byAge = [...groups].sort(
      ([, a], [, b]) => Math.max(...a.map((f) => f.mtimeMs)) - Math.max(...b.map((f) => f.mtimeMs)),
    );
    for (const [key, files] of byAge) {
      const stable = files.every((f) => {
        const before = previous.get(f.path);
        return before && before.size === f.size && before.mtimeMs === f.mtimeMs;
      });
      const signature = `${key}:${files[0]?.match.publish !== false}:${files.map((f) => `${f.path}:${f.size}:${f.mtimeMs}`).join(',')}`;
      // A group already handled in this state costs nothing on later scans.
      if (!stable || failed.has(signature) || handled.get(key) === signature) continue;
      try {
        await importGroup(key, files);
        handled.set(key, signature);
      } catch (err) {
        failed.add(signature);
        logger.warn(
          { err: isDomainError(err) ? err.message : err, release: key },
          'drop folder: import failed',
        );
      }
    }
    for (const key of handled.keys()) if (!groups.has(key)) handled.delete(key);
    // Removed files are looked for at start-up and when a file has gone since the last scan, not every scan.
    const removed = firstScan || [...previous.keys()].some((path) => !now.has(path));
    firstScan = false;
    previous.clear();
    for (const [path, state] of now) previous.set(path, state);
    if (removed) await revokeRemoved(new Set(now.keys()));
  }

  function runScan(): Promise<void> {
    running ??= scan()
      .catch((err) => logger.error({ err }, 'drop folder: scan failed'))
      .finally(() => (running = undefined));
    return running;
  }

  return {
    /** Two scans back to back: the first records sizes, the second imports what stayed the same. */
    async start(): Promise<void> {
      await runScan();
      await new Promise((r) => setTimeout(r, 50));
      await runScan();
      timer = setInterval(() => void runScan(), options.intervalMs ?? 2000);
      timer.unref();
    },
    scan: runScan,
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
