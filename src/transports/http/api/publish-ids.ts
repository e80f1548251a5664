import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../../../core/services.js';
import { createPublishIds } from '../../../core/riot-publish/publish-ids.js';
import { errors, ListOf } from './schemas.js';

const PublishId = Type.Object(
  {
    publishId: Type.String(),
    files: Type.Array(
      Type.Object(
        { name: Type.String(), size: Type.Integer(), sha256: Type.String() },
        { additionalProperties: true },
      ),
    ),
    versions: Type.Array(Type.String()),
  },
  { additionalProperties: true },
);

/** The RIOT seed's publish ids as the dashboard shows them (its files, the versions they carry). */
export function registerPublishIdRoutes(
  app: FastifyInstance,
  services: Pick<Services, 'products' | 'releases' | 'settings'>,
): void {
  const publishIds = createPublishIds(services);
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/publish-ids',
    {
      schema: {
        tags: ['riot'],
        summary: "RIOT publish ids (the seed's POST /publish): newest file of each name, versions carried",
        response: { 200: ListOf(PublishId), ...errors() },
      },
    },
    async () => ({ items: await publishIds.list() }),
  );
}
