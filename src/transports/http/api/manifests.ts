import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../../../core/services.js';
import { DomainError } from '../../../core/errors.js';
import { describeManifest, findManifestArtifact } from '../../../core/signing/index.js';
import { errors, ReleaseParams } from './schemas.js';

/** Larger than any manifest a device accepts (RIOT: 640 bytes); bounds what one request reads into memory. */
const MAX_MANIFEST_BYTES = 64 * 1024;

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableInteger = Type.Union([Type.Integer(), Type.Null()]);
const ManifestView = Type.Object(
  {
    artifact: Type.String({ description: 'The artifact holding the manifest' }),
    format: NullableString,
    sequenceNumber: NullableInteger,
    size: Type.Integer(),
    components: Type.Array(
      Type.Object(
        {
          index: Type.Integer(),
          id: Type.String(),
          key: Type.String(),
          offset: NullableInteger,
          size: NullableInteger,
          digestAlgorithm: NullableString,
          digest: Type.Union([Type.String({ description: 'hex' }), Type.Null()]),
          uri: NullableString,
          vendorId: NullableString,
          classId: NullableString,
        },
        { additionalProperties: true },
      ),
    ),
    envelope: Type.Unknown({ description: 'The whole envelope decoded with names' }),
  },
  { additionalProperties: true },
);

export function registerManifestRoutes(app: FastifyInstance, services: Pick<Services, 'releases'>): void {
  const { releases } = services;

  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/products/:product/releases/:version/manifest',
    {
      schema: {
        tags: ['releases'],
        summary: "The release's SUIT manifest, decoded",
        description:
          'The `riot.suit.<seq>.bin` (or `manifest`) artifact as JSON. The signature is not checked here. ' +
          '404 when the release has none.',
        params: ReleaseParams,
        response: { 200: ManifestView, ...errors(404, 422) },
      },
    },
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
