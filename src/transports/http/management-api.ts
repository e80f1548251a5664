import type { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import type { Services } from '../../core/services.js';
import { auditedAs, requireAdmin } from './admin-auth.js';
import { API_PREFIX, registerOpenApi } from './api/openapi-document.js';
import { formatValidationErrors } from './api/validation-message.js';
import { schemaValidator } from './api/schema-validator.js';
import { registerProductRoutes } from './api/products.js';
import { registerReleaseRoutes } from './api/releases.js';
import { registerDeviceRoutes } from './api/devices.js';
import { registerTokenRoutes } from './api/tokens.js';
import { registerManifestRoutes } from './api/manifests.js';
import { registerPublishIdRoutes } from './api/publish-ids.js';
import { registerAuditRoutes } from './api/audit.js';
import { registerDeploymentRoutes } from './api/deployments.js';
import { registerGroupRoutes } from './api/groups.js';

/**
 * `/api/v1`: JSON, admin token required (except the OpenAPI document, which describes how to authenticate).
 * Every route declares TypeBox schemas (docs/api.md, "How to declare a route"): requests are validated against
 * them without type coercion of bodies, and the OpenAPI document is generated from them.
 */
export async function registerManagementApi(
  app: FastifyInstance,
  services: Services,
  options: { maxUploadBytes: number; downloadRedirectTtlS?: number },
): Promise<void> {
  await registerOpenApi(app);
  await app.register(
    async (api) => {
      api.setValidatorCompiler(schemaValidator);
      api.setSchemaErrorFormatter(formatValidationErrors);
      // Responses are serialised as they are: the response schemas document them (and a test holds the
      // answers to them) but must never coerce or drop a field on the way out.
      api.setSerializerCompiler(() => (data) => JSON.stringify(data));
      api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
      await api.register(async (secured) => {
        secured.addHook('onRequest', requireAdmin(services.tokens));
        secured.addHook('preHandler', auditedAs());
        await secured.register(multipart, { limits: { files: 64, fields: 200, parts: 300 } });
        registerProductRoutes(secured, services);
        registerReleaseRoutes(secured, services, options);
        registerDeviceRoutes(secured, services);
        registerTokenRoutes(secured, services);
        registerManifestRoutes(secured, services);
        registerPublishIdRoutes(secured, services);
        registerAuditRoutes(secured, services);
        registerDeploymentRoutes(secured, services);
        registerGroupRoutes(secured, services);
      });
    },
    { prefix: API_PREFIX },
  );
}
