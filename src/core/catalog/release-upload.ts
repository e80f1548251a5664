import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DomainError } from '../errors.js';
import { assertValidName } from '../names.js';
import type { BlobStore } from '../blobs/blob-store.js';
import type { UploadHolds } from '../blobs/upload-holds.js';
import type { Artifact, Release } from './types.js';

export interface ArtifactInput {
  name: string;
  source: AsyncIterable<Uint8Array> | Readable;
  contentType?: string;
  expectedSha256?: string;
  expectedMd5?: string;
}

/**
 * One release being assembled from streamed files. Blobs land in the store as they arrive, each held for this
 * upload (`holds`) so that garbage collection keeps it until the release is committed; the release row is written
 * only by `commit`, in one transaction, so a crash mid-upload leaves at most unreferenced blobs, which the
 * collector removes after its grace period. Nothing half-made is ever visible.
 */
export function createReleaseUpload(
  blobs: BlobStore,
  draft: Omit<Release, 'artifacts' | 'id'>,
  limits: { maxBytes: number },
  holds?: UploadHolds,
) {
  const artifacts: Artifact[] = [];
  /** Artifacts a processor replaced: their blobs are dropped once the release is committed or discarded. */
  const replaced: Artifact[] = [];
  let total = 0;

  return {
    draft,
    holds,
    artifacts,
    replaced,
    async add(input: ArtifactInput): Promise<Artifact> {
      const name = assertValidName(input.name, 'artifact');
      if (artifacts.some((a) => a.name === name)) {
        throw new DomainError('DUPLICATE_ARTIFACT', `artifact "${name}" was uploaded twice`);
      }
      const digests = await blobs.put(input.source, {
        maxBytes: limits.maxBytes - total,
        expectedSha256: input.expectedSha256,
        expectedMd5: input.expectedMd5,
        beforePublish: holds?.beforePublish,
      });
      total += digests.size;
      const artifact: Artifact = {
        name,
        size: digests.size,
        sha256: digests.sha256,
        md5: digests.md5,
        contentType: input.contentType || 'application/octet-stream',
      };
      artifacts.push(artifact);
      return artifact;
    },
    /** Drops an artifact (a processor replacing it, e.g. with a signed image). */
    remove(name: string): Artifact | undefined {
      const index = artifacts.findIndex((a) => a.name === name);
      if (index < 0) return undefined;
      const [removed] = artifacts.splice(index, 1);
      if (removed) {
        total -= removed.size;
        replaced.push(removed);
      }
      return removed;
    },
    build(): Release {
      if (artifacts.length === 0)
        throw new DomainError('ARTIFACT_REQUIRED', 'a release needs at least one file');
      return { ...draft, id: randomUUID(), artifacts: [...artifacts] };
    },
  };
}

export type ReleaseUpload = ReturnType<typeof createReleaseUpload>;
