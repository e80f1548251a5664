import type { FastifyInstance } from 'fastify';
import type { Services } from '../../../core/services.js';
import { createPublishIds } from '../../../core/riot-publish/publish-ids.js';

/** The RIOT seed's publish ids as the dashboard shows them (its files, the versions they carry). */
export function registerPublishIdRoutes(
  app: FastifyInstance,
  services: Pick<Services, 'products' | 'releases' | 'settings'>,
): void {
  const publishIds = createPublishIds(services);
  app.get('/publish-ids', async () => ({ items: await publishIds.list() }));
}
