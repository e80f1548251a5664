import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { lstat, readdir, type FileHandle } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { openListed } from './open-listed.js';
import { folderShape, type FolderShape } from './folder-shape.js';
import { createFolderChanges, folderMtime } from './folder-changes.js';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Services } from '../../core/services.js';
import type { Release } from '../../core/catalog/types.js';
import { isDomainError } from '../../core/errors.js';
import { SYSTEM } from '../../core/audit/context.js';
import { normalizeVersion } from '../../core/versions/release-version.js';
import { dropLayouts, type DropFolderView, type DropLayout, type LayoutMatch } from './layouts.js';

interface FileState {
  path: string;
  size: number;
  mtimeMs: number;
  match: LayoutMatch;
  /** When this size and mtime were first read (monotonic ms): the file has not moved since. */
  seenAt: number;
}

const SOURCE_KEY = 'drop-folder:';
/**
 * Marks a release this folder holds back (imported as a draft or revoked because a layout says so, or revoked
 * because its file was removed), so that only such a release is published again, never one an operator revoked.
 */
const HELD_KEY = 'drop-folder-held:';

/**
 * The settle of an on-demand scan: a file changed since the last scan is imported only if its size and mtime are
 * the same in two stats this far apart. Two observations closer than half of it never count as stable, so a
 * periodic scan right after an on-demand one does not weaken the rule.
 */
const SETTLE_MS = 100;
const MIN_GAP_MS = SETTLE_MS / 2;
/** The longest a request waits for an on-demand scan; the scan goes on, and later requests see its imports. */
const MAX_WAIT_MS = 300;

/** The files under `dir`; `folders` gets each folder's mtime, read before the folder is listed. */
async function walk(dir: string, folders: Map<string, number>, depth = 0): Promise<string[]> {
  if (depth > 4) return [];
  const mtimeMs = await folderMtime(dir);
  if (mtimeMs !== undefined) folders.set(dir, mtimeMs);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(
    entries.map((e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return walk(path, folders, depth + 1);
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

const sameState = (before: FileState | undefined, after: FileState): before is FileState =>
  before !== undefined && before.size === after.size && before.mtimeMs === after.mtimeMs;

/** Two observations of a file agree, far enough apart that a writer still at work would have moved it. */
const unchanged = (before: FileState | undefined, after: FileState): boolean =>
  sameState(before, after) && after.seenAt - before.seenAt >= MIN_GAP_MS;

/** Resolves when `work` does or after `ms`, whichever comes first. */
function within(ms: number, work: Promise<void>): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, ms);
    void work.finally(() => {
      clearTimeout(timer);
      done();
    });
  });
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
 * layout are logged once and skipped. `freshen(product)` lets a device request see a file written a moment ago
 * (the simple-polling seed's tests write a file and fetch it at once): when a folder of that product changed, one
 * scan runs now, with a 100 ms settle instead of the 2 s between scans. Its changes are the server's own work:
 * the audit log records them as `system`, whichever request a freshen came with.
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
  let started = false;
  const changes = createFolderChanges();
  const freshening = new Map<string, Promise<void>>();

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
        await services.releases.delete(SYSTEM, product, existing.version);
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
        await services.releases.publish(SYSTEM, product, existing.version);
        await services.settings.delete(heldKey);
        logger.info({ product, version: existing.version }, 'drop folder: release published (again)');
      } else if (imported && !publish && existing.state === 'published') {
        await services.releases.revoke(SYSTEM, product, existing.version);
        await services.settings.set(heldKey, 'layout');
        logger.info(
          { product, version: existing.version },
          'drop folder: layout holds the release back, revoked',
        );
      }
      await services.settings.set(`${SOURCE_KEY}${product}@${existing.version}`, sources);
      return;
    }
    await services.products.ensure(SYSTEM, product, {
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
        SYSTEM,
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
        await services.releases.revoke(SYSTEM, product, version);
        await services.settings.set(`${HELD_KEY}${product}@${release.version}`, 'removed');
        logger.info({ product, version }, 'drop folder: file removed, release revoked');
      }
    }
  }

  async function observe(path: string, match: LayoutMatch): Promise<FileState | undefined> {
    const s = await lstat(path).catch(() => undefined);
    return s?.isFile()
      ? { path, size: s.size, mtimeMs: s.mtimeMs, match, seenAt: performance.now() }
      : undefined;
  }

  /**
   * The on-demand settle: the product's files that changed since the last scan are looked at again after
   * SETTLE_MS. The first look becomes the previous state, so only a file unchanged across both is stable; one still
   * growing is not imported. Opening it (openListed) checks the size and mtime once more.
   */
  async function settle(now: Map<string, FileState>, product: string): Promise<void> {
    const moving = [...now.values()].filter(
      (f) => f.match.product === product && !unchanged(previous.get(f.path), f),
    );
    if (moving.length === 0) return;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    for (const f of moving) {
      if (!sameState(previous.get(f.path), f)) previous.set(f.path, f);
      const again = await observe(f.path, f.match);
      if (again) now.set(f.path, again);
      else now.delete(f.path);
    }
  }

  async function scan(onDemand?: { product: string }): Promise<void> {
    const folders = new Map<string, number>();
    const paths = await walk(dir, folders);
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
      const state = await observe(path, match);
      if (state) now.set(path, state);
    }
    if (onDemand) await settle(now, onDemand.product);
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
    const moving = new Set<string>();
    for (const [key, files] of byAge) {
      const stable = files.every((f) => unchanged(previous.get(f.path), f));
      if (!stable) for (const f of files) moving.add(dirname(f.path));
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
    const before = new Map(previous);
    previous.clear();
    for (const [path, state] of now) {
      const seen = before.get(path);
      // Unchanged since an earlier scan: it has been still since then, however soon this scan came.
      previous.set(path, sameState(seen, state) ? { ...state, seenAt: seen.seenAt } : state);
    }
    if (removed) await revokeRemoved(new Set(now.keys()));
    changes.record(folders, now.values(), moving);
  }

  function runScan(onDemand?: { product: string }): Promise<void> {
    running ??= scan(onDemand)
      .catch((err) => logger.error({ err }, 'drop folder: scan failed'))
      .finally(() => (running = undefined));
    return running;
  }

  /** Scans now for the product, unless nothing changed in its folders; a scan under way is waited for first. */
  async function freshenNow(product: string): Promise<void> {
    while (started && (await changes.changed(product))) {
      // Checked and started with no await between, so the scan that runs is this on-demand one.
      if (!running) return runScan({ product });
      await running;
    }
  }

  return {
    /** Two scans back to back: the first records sizes, the second imports what stayed the same. */
    async start(): Promise<void> {
      await runScan();
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      await runScan();
      timer = setInterval(() => void runScan(), options.intervalMs ?? 2000);
      timer.unref();
      started = true;
    },
    scan: () => runScan(),
    /**
     * Before a device request for `product` is answered: picks up what changed in the product's folders just now.
     * Nothing changed: one stat per folder, no wait (nothing at all while this process does not run the folder,
     * e.g. a replica that is not the leader). Otherwise one
     * on-demand scan, shared by concurrent requests, waited for at most MAX_WAIT_MS. Never rejects.
     */
    freshen(product: string): Promise<void> {
      if (!started) return Promise.resolve();
      let work = freshening.get(product);
      if (!work) {
        work = freshenNow(product)
          .catch((err: unknown) => logger.error({ err }, 'drop folder: on-demand scan failed'))
          .finally(() => freshening.delete(product));
        freshening.set(product, work);
      }
      return within(MAX_WAIT_MS, work);
    },
    async stop(): Promise<void> {
      started = false;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
