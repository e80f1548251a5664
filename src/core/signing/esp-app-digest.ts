import { createHash } from 'node:crypto';
import type { ReleaseProcessor } from '../catalog/release-service.js';
import type { Artifact } from '../catalog/types.js';
import { espAppImageDigest, type RangeReader } from '../manifests/esp-app-image.js';
import type { ArtifactReader } from './artifact-bytes.js';
import { ESP_APP_IMAGES } from './esp-processor.js';

function blobReader(blobs: ArtifactReader, artifact: Artifact): RangeReader {
  return {
    size: artifact.size,
    read: (offset, length) => blobs.read(artifact.sha256, offset, length),
    async sha256(end) {
      const hash = createHash('sha256');
      if (end > 0) {
        for await (const chunk of await blobs.createReadStream(artifact.sha256, { start: 0, end: end - 1 })) {
          hash.update(chunk as Buffer);
        }
      }
      return hash.digest();
    },
  };
}

/**
 * Records, at publish, the digest an ESP32 will report for each app image (`x-ESP32-sketch-sha256`: the SHA-256
 * ESP-IDF appends over `image[:-32]`), so that "the device already runs this image" matches real devices. Runs
 * after signing, over the file that will be served. Images without an appended, verifying digest get none.
 */
export function createEspAppDigestProcessor(deps: { blobs: ArtifactReader }): ReleaseProcessor {
  return async (upload) => {
    for (const artifact of upload.artifacts) {
      if (!(ESP_APP_IMAGES as readonly string[]).includes(artifact.name)) continue;
      const digest = await espAppImageDigest(blobReader(deps.blobs, artifact));
      if (digest) artifact.imageSha256 = digest;
    }
  };
}
