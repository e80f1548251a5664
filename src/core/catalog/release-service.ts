import type { Readable } from 'node:stream';
import { DomainError } from '../errors.js';
import { assertValidName } from '../names.js';
import { isoNow, systemClock, type Clock } from '../clock.js';
import { compareVersions } from '../versions/compare.js';
import { normalizeVersion } from '../versions/release-version.js';
import type { BlobStore, ByteRange } from '../blobs/blob-store.js';
import { createUploadHolds, type BlobHoldsPort } from '../blobs/upload-holds.js';
import { isDomainError } from '../errors.js';
import type { ProductRepository, ReleaseRepository } from './ports.js';
import type { Artifact, Product, Release, ReleaseState } from './types.js';
import { createReleaseUpload, type ArtifactInput, type ReleaseUpload } from './release-upload.js';
import type { ReleaseEvents } from './release-events.js';
import { createPublishedCache } from './published-cache.js';
import type { EventBus } from '../events/event-bus.js';
import { unauditedLog, type AuditLog } from '../audit/audit-log.js';
import type { AuditContext } from '../audit/types.js';

export interface ReleaseServiceDeps {
  products: Pick<ProductRepository, 'get'>;
  releases: ReleaseRepository;
  blobs: BlobStore;
  events: ReleaseEvents;
  clock?: Clock;
  /** Largest total upload per release, in bytes. */
  maxUploadBytes: number;
  /**
   * Steps run on every new release before it is committed, in order: they may verify (throwing a domain
   * error aborts the upload and nothing is published), add artifacts (a generated SUIT manifest) or replace them
   * (a signed ESP image).
   */
  processors?: ReleaseProcessor[];
  /** How long the hot path may serve a cached list of published releases (a safety net under the bus), ms. */
  cacheTtlMs?: number;
  /**
   * Where uploads in progress hold the blobs they stored, so garbage collection keeps them (docs/storage.md).
   * Blobs are never deleted here: releases and failed uploads leave them to the collector.
   */
  holds?: { repository: BlobHoldsPort; ttlMs?: number };
  /** Called when an artifact's blob is missing from the store (logged loudly by the app). */
  onBlobMissing?: (artifact: Artifact, err: unknown) => void;
  /** Carries cache invalidations to every replica. */
  bus?: EventBus;
  /** Each change and its audit record in one transaction; without it nothing is recorded (unit tests). */
  audit?: Pick<AuditLog, 'withAudit'>;
}

export type ReleaseProcessor = (upload: ReleaseUpload, product: Product) => Promise<void>;

export interface NewRelease {
  product: string;
  version: string;
  notes?: string;
  publish?: boolean;
}

const TRANSITIONS: Record<'publish' | 'revoke', ReleaseState[]> = {
  publish: ['draft', 'revoked'],
  revoke: ['draft', 'published'],
};

function tryNormalize(version: string): string | undefined {
  try {
    return normalizeVersion(version);
  } catch {
    return undefined;
  }
}

export function createReleaseService(deps: ReleaseServiceDeps) {
  const { products, releases, blobs, events, clock = systemClock } = deps;
  const published = createPublishedCache(releases, {
    ttlMs: deps.cacheTtlMs ?? 2000,
    clock,
    bus: deps.bus,
  });
  const publishedOf = async (product: string): Promise<Release[]> => (await published.get(product)) ?? [];
  const audit = deps.audit ?? unauditedLog({ releases });

  async function get(product: string, version: string): Promise<Release> {
    const release = await find(product, version);
    if (!release) throw new DomainError('RELEASE_NOT_FOUND', `${product} has no release ${version}`);
    return release;
  }

  /** Finds by normalised version or by the label a layout used (`v1.0.1`); never throws on odd strings. */
  async function find(product: string, version: string): Promise<Release | undefined> {
    const normalised = tryNormalize(version);
    const exact = normalised ? await releases.get(product, normalised) : undefined;
    if (exact) return exact;
    return (await releases.list(product)).find((r) => r.label === version);
  }

  /** A missing blob is reported once, where it is found, whatever path asked for it. */
  function missing<T>(artifact: Artifact, work: Promise<T>): Promise<T> {
    return work.catch((err: unknown) => {
      if (isDomainError(err, 'BLOB_NOT_FOUND')) deps.onBlobMissing?.(artifact, err);
      throw err;
    });
  }

  /** Every blob of a release about to be committed is in the store (an operator or a bug may have removed one). */
  async function assertStored(artifacts: Artifact[]): Promise<void> {
    for (const artifact of artifacts) {
      if (!(await blobs.stat(artifact.sha256))) {
        const err = new DomainError(
          'BLOB_NOT_FOUND',
          `the stored content of "${artifact.name}" (${artifact.sha256}) is missing; nothing was published`,
        );
        deps.onBlobMissing?.(artifact, err);
        throw err;
      }
    }
  }

  async function changeState(
    by: AuditContext,
    product: string,
    version: string,
    action: 'publish' | 'revoke',
  ) {
    const release = await get(product, version);
    const target: ReleaseState = action === 'publish' ? 'published' : 'revoked';
    if (release.state === target) return release;
    if (!TRANSITIONS[action].includes(release.state)) {
      throw new DomainError('INVALID_STATE', `cannot ${action} a ${release.state} release`);
    }
    const at = isoNow(clock);
    await audit.withAudit(by, `release.${action}`, `${product}@${release.version}`, (tx) =>
      tx.releases.setState(release.id, target, at),
    );
    published.invalidate(product);
    const updated = await get(product, release.version);
    events.emit({ type: target, release: updated });
    return updated;
  }

  return {
    get,
    find,
    list: (product: string, states?: ReleaseState[]) => releases.list(product, { states }),
    listRecent: (limit: number, states?: ReleaseState[]) => releases.listAll({ limit, states }),
    /** Published releases of a product, newest first (docs/versions.md). Cached: this is on every device check-in. */
    listPublished: publishedOf,
    /** The cached answer of `listPublished`, or undefined when it would have to be loaded (no promise). */
    listPublishedCached: (product: string): Release[] | undefined => published.peek(product),
    /**
     * `find` among the published releases only, from the same cache (device downloads that name a version:
     * ESP-AT, simple polling). Undefined when there is no such release or it is not published.
     */
    async findPublished(product: string, version: string): Promise<Release | undefined> {
      const list = await publishedOf(product);
      const normalised = tryNormalize(version);
      return (
        (normalised ? list.find((r) => r.version === normalised) : undefined) ??
        list.find((r) => r.label === version)
      );
    },

    /** Validates product and version up front, before any byte of the upload is read. */
    async begin(input: NewRelease): Promise<ReleaseUpload> {
      const product = assertValidName(input.product, 'product');
      const version = normalizeVersion(input.version);
      if (!(await products.get(product))) {
        throw new DomainError('PRODUCT_NOT_FOUND', `product "${product}" does not exist`);
      }
      if (await releases.get(product, version)) {
        throw new DomainError('VERSION_EXISTS', `${product} already has a release ${version}`);
      }
      const label = input.version.trim() !== version ? input.version.trim() : null;
      const now = isoNow(clock);
      return createReleaseUpload(
        blobs,
        {
          product,
          version,
          label,
          notes: typeof input.notes === 'string' ? input.notes.slice(0, 10000) : '',
          state: input.publish ? 'published' : 'draft',
          createdAt: now,
          publishedAt: input.publish ? now : null,
          revokedAt: null,
        },
        { maxBytes: deps.maxUploadBytes },
        deps.holds
          ? createUploadHolds({
              repository: deps.holds.repository,
              clock,
              ttlMs: deps.holds.ttlMs ?? 10 * 60_000,
            })
          : undefined,
      );
    },

    async commit(by: AuditContext, upload: ReleaseUpload): Promise<Release> {
      const product = await products.get(upload.draft.product);
      if (!product)
        throw new DomainError('PRODUCT_NOT_FOUND', `product "${upload.draft.product}" does not exist`);
      for (const process of deps.processors ?? []) await process(upload, product);
      const release = upload.build();
      await assertStored(release.artifacts);
      await audit.withAudit(
        by,
        'release.create',
        `${release.product}@${release.version}`,
        (tx) => tx.releases.create(release),
        () => ({ state: release.state, artifacts: release.artifacts.map((a) => a.name) }),
      );
      // The release references the blobs now: the upload's holds are no longer needed.
      await upload.holds?.release();
      published.invalidate(release.product);
      events.emit({ type: 'created', release });
      if (release.state === 'published') events.emit({ type: 'published', release });
      return release;
    },

    /**
     * Ends an upload that will not be committed. Its blobs are not deleted here (another upload in progress may
     * have stored the same content a moment ago): without a hold or a release they are orphans, which garbage
     * collection deletes after its grace period.
     */
    async discard(upload: ReleaseUpload): Promise<void> {
      await upload.holds?.release();
    },

    /** Convenience for callers that have all files at hand (CLI import, drop folder, tests). */
    async create(by: AuditContext, input: NewRelease, files: ArtifactInput[]): Promise<Release> {
      const upload = await this.begin(input);
      try {
        for (const file of files) await upload.add(file);
        return await this.commit(by, upload);
      } catch (err) {
        await this.discard(upload);
        throw err;
      }
    },

    publish: (by: AuditContext, product: string, version: string) =>
      changeState(by, product, version, 'publish'),
    revoke: (by: AuditContext, product: string, version: string) =>
      changeState(by, product, version, 'revoke'),

    async delete(by: AuditContext, product: string, version: string): Promise<void> {
      const release = await get(product, version);
      // Its blobs, unless another release or an upload uses them, are deleted by garbage collection later.
      await audit.withAudit(
        by,
        'release.delete',
        `${release.product}@${release.version}`,
        (tx) => tx.releases.delete(release.id),
        () => ({ state: release.state }),
      );
      published.invalidate(product);
      events.emit({ type: 'deleted', release });
    },

    artifact(release: Release, name: string): Artifact {
      const artifact = release.artifacts.find((a) => a.name === name);
      if (!artifact) {
        throw new DomainError('ARTIFACT_NOT_FOUND', `${release.product} ${release.version} has no "${name}"`);
      }
      return artifact;
    },

    openArtifact(artifact: Artifact, range?: ByteRange): Promise<Readable> {
      return missing(artifact, blobs.createReadStream(artifact.sha256, range));
    },

    readArtifact(artifact: Artifact, offset: number, length: number): Promise<Buffer> {
      return missing(artifact, blobs.read(artifact.sha256, offset, length));
    },

    /** `readArtifact` when the blob store holds the image in memory (a view of it), else undefined. */
    readArtifactCached(artifact: Artifact, offset: number, length: number): Buffer | undefined {
      return blobs.readCached?.(artifact.sha256, offset, length);
    },

    /**
     * A short-lived URL a client that follows redirects can download the artifact from, when the blob store has
     * one (S3); undefined otherwise.
     */
    async downloadUrl(artifact: Artifact, expiresInS: number): Promise<string | undefined> {
      if (!blobs.presignedUrl) return undefined;
      // A redirect to a missing object would be the store's bare 404: answer the clear error here instead.
      if (!(await blobs.stat(artifact.sha256))) {
        const err = new DomainError('BLOB_NOT_FOUND', `the stored content of "${artifact.name}" is missing`);
        deps.onBlobMissing?.(artifact, err);
        throw err;
      }
      return blobs.presignedUrl(artifact.sha256, { expiresInS, filename: artifact.name });
    },

    /** The artifact's file relative to the blob store's root, when the store has files (X-Accel-Redirect). */
    blobPath(artifact: Artifact): string | undefined {
      return blobs.relativePath?.(artifact.sha256);
    },

    compare: compareVersions,
  };
}

export type ReleaseService = ReturnType<typeof createReleaseService>;
