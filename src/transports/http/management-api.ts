import type { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import type { Services } from '../../core/services.js';
import { requireAdmin } from './admin-auth.js';
import { openApiDocument } from './api/openapi.js';
import { registerProductRoutes } from './api/products.js';
import { registerReleaseRoutes } from './api/releases.js';
import { registerDeviceRoutes } from './api/devices.js';
import { registerTokenRoutes } from './api/tokens.js';
import { registerManifestRoutes } from './api/manifests.js';
import { registerPublishIdRoutes } from './api/publish-ids.js';

/** `/api/v1`: JSON, admin token required (except the OpenAPI document, which describes how to authenticate). */
export async function registerManagementApi(
  app: FastifyInstance,
  services: Services,
  options: { maxUploadBytes: number; downloadRedirectTtlS?: number },
): Promise<void> {
  await app.register(
    async (api) => {
      api.get('/openapi.json', async () => openApiDocument);
      await api.register(async (secured) => {
        secured.addHook('onRequest', requireAdmin(services.tokens));
        await secured.register(multipart, { limits: { files: 64, fields: 200, parts: 300 } });
        registerProductRoutes(secured, services);
        registerReleaseRoutes(secured, services, options);
        registerDeviceRoutes(secured, services);
        registerTokenRoutes(secured, services);
        registerManifestRoutes(secured, services);
        registerPublishIdRoutes(secured, services);
      });
    },
    { prefix: '/api/v1' },
  );
}
