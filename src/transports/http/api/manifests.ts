import type { FastifyInstance } from 'fastify';
import type { Services } from '../../../core/services.js';
import { DomainError } from '../../../core/errors.js';
import { describeManifest, findManifestArtifact } from '../../../core/signing/index.js';

/** Larger than any manifest a device accepts (RIOT: 640 bytes); bounds what one request reads into memory. */
const MAX_MANIFEST_BYTES = 64 * 1024;

export function registerManifestRoutes(app: FastifyInstance, services: Pick<Services, 'releases'>): void {
  const { releases } = services;

  app.get<{ Params: { product: string; version: string } }>(
    '/products/:product/releases/:version/manifest',
    async (request) => {
      const release = await releases.get(request.params.product, request.params.version);
      const artifact = findManifestArtifact(release.artifacts);
      if (!artifact) {
        throw new DomainError(
          'ARTIFACT_NOT_FOUND',
          `${release.product} ${release.version} has no SUIT manifest`,
        );
      }
      if (artifact.size > MAX_MANIFEST_BYTES) {
        throw new DomainError(
          'MANIFEST_INVALID',
          `${artifact.name} is ${artifact.size} bytes, not a manifest`,
        );
      }
      const bytes = await releases.readArtifact(artifact, 0, artifact.size);
      return { artifact: artifact.name, ...describeManifest(bytes) };
    },
  );
}
