import type { BlobStore } from '../blobs/blob-store.js';
import type { Artifact } from '../catalog/types.js';

export type ArtifactReader = Pick<BlobStore, 'read' | 'createReadStream'>;

/** Whole artifact in memory: signing and digest checks need all of it (firmware images, a few MB at most). */
export async function readArtifactBytes(blobs: ArtifactReader, artifact: Artifact): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await blobs.createReadStream(artifact.sha256)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
