import type { Readable } from 'node:stream';
import { DomainError } from '../errors.js';
import { isValidName } from '../names.js';
import type { ProductService } from '../catalog/product-service.js';
import type { ReleaseService } from '../catalog/release-service.js';
import type { ReleaseUpload } from '../catalog/release-upload.js';
import type { Artifact, Product, Release } from '../catalog/types.js';
import type { AuditContext } from '../audit/types.js';
import type { SettingsRepository } from '../settings.js';
import {
  LEGACY_MANIFEST,
  latestCopyName,
  publishPath,
  RESERVED_PUBLISH_PATHS,
  RIOT_PUBLISH_FAMILY,
  SINGLE_MANIFEST,
  SLOT_MANIFEST,
  slotManifestName,
  storedFileName,
  V4_MANIFEST,
  v4ManifestName,
  versionPart,
} from './names.js';

export interface PublishIdsDeps {
  products: ProductService;
  releases: ReleaseService;
  settings: Pick<SettingsRepository, 'increment'>;
}

export interface IncomingFile {
  /** The multipart field name: the stored name is its base name. */
  field: string;
  source: AsyncIterable<Uint8Array> | Readable;
  contentType?: string;
  /** Aborts the blob write (a stalled upload body). */
  signal?: AbortSignal;
}

export interface PublishedFile {
  name: string;
  size: number;
  sha256: string;
}

export interface PublishIdView {
  publishId: string;
  files: PublishedFile[];
  versions: string[];
}

/** A manifest file to send devices, as a name inside the publish id's CoAP path. */
export type ManifestChoice =
  | { kind: 'single'; file: string }
  | { kind: 'per-slot'; files: readonly [string | undefined, string | undefined] };

export const publishSequenceKey = (path: string) => `publish-seq:${path}`;

const file = (a: Artifact): PublishedFile => ({ name: a.name, size: a.size, sha256: a.sha256 });

/**
 * The RIOT seed's publish ids on top of the catalog. A publish id is a product of family `riot-publish`; each
 * `POST /publish` is one published release `0.0.<n>` (publish ids have no SemVer of their own, so `n` is a
 * per-id counter that never goes back, even after a removal). A file is served from the newest published
 * release that holds one of that name, so a later publish shadows an earlier file of the same name, and
 * removing it brings the earlier one back.
 */
export function createPublishIds({ products, releases, settings }: PublishIdsDeps) {
  async function productAt(path: string): Promise<Product | undefined> {
    const product = await products.find(path);
    return product?.deviceFamily === RIOT_PUBLISH_FAMILY ? product : undefined;
  }

  async function existing(publishId: unknown): Promise<Product> {
    const path = publishPath(publishId);
    const product = await productAt(path);
    if (!product) throw new DomainError('PRODUCT_NOT_FOUND', `no publish id "${path}"`);
    return product;
  }

  /** Newest first; a name's first occurrence is the one served. */
  async function newestFiles(path: string): Promise<Map<string, Artifact>> {
    const files = new Map<string, Artifact>();
    for (const release of await releases.listPublished(path)) {
      for (const a of release.artifacts) if (!files.has(a.name)) files.set(a.name, a);
    }
    return files;
  }

  async function begin(
    by: AuditContext,
    publishId: string,
    path: string,
  ): Promise<{ upload: ReleaseUpload; created: boolean }> {
    const found = await products.find(path);
    if (found && found.deviceFamily !== RIOT_PUBLISH_FAMILY) {
      throw new DomainError('PRODUCT_EXISTS', `"${path}" is a product of another device family`);
    }
    if (!found) {
      await products.ensure(by, path, {
        deviceFamily: RIOT_PUBLISH_FAMILY,
        description: 'RIOT publish id (seed-compatible POST /publish)',
        settings: { publishId },
      });
    }
    const seq = await settings.increment(publishSequenceKey(path), 1);
    const upload = await releases.begin({ product: path, version: `0.0.${seq}`, publish: true });
    return { upload, created: !found };
  }

  return {
    publishPath,

    /**
     * Stores every file as one new published release, plus the `.latest.` copies (same blob: the store is
     * content-addressed). A file uploaded explicitly under a `.latest.` name wins over the copy. Nothing is
     * kept when anything fails, not even a product created for it.
     */
    async publish(by: AuditContext, publishId: unknown, files: AsyncIterable<IncomingFile>) {
      const path = publishPath(publishId);
      const id = (publishId as string).trim();
      let started: { upload: ReleaseUpload; created: boolean } | undefined;
      try {
        const copies = new Map<string, Artifact>();
        for await (const incoming of files) {
          const name = storedFileName(incoming.field);
          started ??= await begin(by, id, path);
          const artifact = await started.upload.add({
            name,
            source: incoming.source,
            contentType: incoming.contentType,
            signal: incoming.signal,
          });
          const copy = latestCopyName(name);
          if (copy) copies.set(copy, artifact);
        }
        if (!started) throw new DomainError('ARTIFACT_REQUIRED', 'No file found in request');
        for (const [name, artifact] of copies) {
          if (started.upload.artifacts.some((a) => a.name === name)) continue;
          await started.upload.add({
            name,
            source: await releases.openArtifact(artifact),
            contentType: artifact.contentType,
            expectedSha256: artifact.sha256,
          });
        }
        const release = await releases.commit(by, started.upload);
        return { publishId: id, path, version: release.version, files: release.artifacts.map(file) };
      } catch (err) {
        if (started) {
          await releases.discard(started.upload);
          if (started.created && (await releases.list(path)).length === 0) await products.delete(by, path);
        }
        throw err;
      }
    },

    async list(): Promise<PublishIdView[]> {
      const out: PublishIdView[] = [];
      for (const product of await products.list()) {
        if (product.deviceFamily !== RIOT_PUBLISH_FAMILY) continue;
        const files = [...(await newestFiles(product.name)).values()];
        const versions = new Set<string>();
        for (const f of files) {
          const v = versionPart(f.name);
          if (v !== undefined && v !== 'latest') versions.add(v);
        }
        const original = product.settings.publishId;
        out.push({
          publishId: typeof original === 'string' ? original : product.name,
          files: files.map(file).sort((a, b) => a.name.localeCompare(b.name)),
          versions: [...versions],
        });
      }
      return out;
    },

    /**
     * With a version: deletes every release holding a file whose version part is exactly that (the seed
     * matched a substring, so `1` also removed `12`). Without: the whole publish id. The product goes once it
     * has no release left. Returns the release versions deleted.
     */
    async remove(by: AuditContext, publishId: unknown, version?: string): Promise<{ removed: string[] }> {
      const product = await existing(publishId);
      const all = await releases.list(product.name);
      let doomed: Release[] = all;
      if (version !== undefined && version !== '') {
        if (version === 'latest') {
          throw new DomainError(
            'INVALID_INPUT',
            'the .latest. copies go with their release: remove its version',
          );
        }
        doomed = all.filter((r) => r.artifacts.some((a) => versionPart(a.name) === version));
        if (doomed.length === 0) {
          throw new DomainError(
            'RELEASE_NOT_FOUND',
            `publish id "${product.name}" has no file of version ${version}`,
          );
        }
      }
      for (const release of doomed) await releases.delete(by, product.name, release.version);
      if (doomed.length === all.length) await products.delete(by, product.name);
      return { removed: doomed.map((r) => r.version) };
    },

    /** The artifact CoAP `GET /<path>/<file>` serves, or undefined. Never throws on odd names. */
    async findFile(
      path: string,
      name: string,
    ): Promise<{ release: Release; artifact: Artifact } | undefined> {
      if (!isValidName(path) || RESERVED_PUBLISH_PATHS.has(path) || !isValidName(name)) return undefined;
      if (!(await productAt(path))) return undefined;
      for (const release of await releases.listPublished(path)) {
        const artifact = release.artifacts.find((a) => a.name === name);
        if (artifact) return { release, artifact };
      }
      return undefined;
    },

    /**
     * The manifest devices are pointed at. v1 (`/notify`): `riot.suit.latest.bin` (today's RIOT, one manifest
     * for both slots) if present, else the seed's `<base>-slot{0,1}.riot.suit.latest.bin` by inactive slot,
     * else the 2019 client's `manifest`. v4 (`/notifyv4`, with a version):
     * `<base>-riot.suitv4_signed.<version>.bin`. `base` comes from the newest release that has such a file
     * (the seed took the first directory entry cut at the first `-`, which broke on names containing `-`).
     */
    async manifest(
      publishId: unknown,
      v4Version?: string,
    ): Promise<{ path: string; choice: ManifestChoice }> {
      const product = await existing(publishId);
      const files = await newestFiles(product.name);
      const names = [...files.keys()];
      const missing = (what: string) =>
        new DomainError(
          'ARTIFACT_NOT_FOUND',
          `publish id "${product.name}" has no ${what} to notify devices with`,
        );
      if (v4Version !== undefined) {
        const base = names.map((n) => V4_MANIFEST.exec(n)?.[1]).find((b) => b !== undefined);
        const name = base === undefined ? undefined : v4ManifestName(base, v4Version);
        if (name === undefined || !isValidName(name) || !files.has(name)) {
          throw missing(`<app>-riot.suitv4_signed.${v4Version}.bin`);
        }
        return { path: product.name, choice: { kind: 'single', file: name } };
      }
      if (files.has(SINGLE_MANIFEST))
        return { path: product.name, choice: { kind: 'single', file: SINGLE_MANIFEST } };
      const base = names.map((n) => SLOT_MANIFEST.exec(n)?.[1]).find((b) => b !== undefined);
      if (base !== undefined) {
        const slot = (s: 0 | 1) =>
          files.has(slotManifestName(base, s)) ? slotManifestName(base, s) : undefined;
        return { path: product.name, choice: { kind: 'per-slot', files: [slot(0), slot(1)] } };
      }
      if (files.has(LEGACY_MANIFEST))
        return { path: product.name, choice: { kind: 'single', file: LEGACY_MANIFEST } };
      throw missing(`${SINGLE_MANIFEST} or <app>-slot0.riot.suit.latest.bin`);
    },
  };
}

export type PublishIds = ReturnType<typeof createPublishIds>;
