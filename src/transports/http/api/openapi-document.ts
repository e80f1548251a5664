import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';

export const API_PREFIX = '/api/v1';

/**
 * `@fastify/swagger` builds the OpenAPI 3.1 document from the schemas the `/api/v1` routes declare. Paths are
 * relative to the `/api/v1` server, as the hand-written document had them; device paths, probes and the
 * dashboard are not part of the management API and are left out.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Updraft management API',
        version: '1',
        description:
          'JSON under /api/v1. Every call but this document needs `Authorization: Bearer <admin token>`. ' +
          'Errors are `{ code, message }` (docs/errors.md); a request that does not match its schema is ' +
          '400 INVALID_INPUT with a message naming the field.',
      },
      servers: [{ url: API_PREFIX }],
      security: [{ bearer: [] }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: ({ schema, url }) => {
      const inApi = url.startsWith(`${API_PREFIX}/`) && url !== `${API_PREFIX}/openapi.json`;
      if (!inApi) return { schema: { ...schema, hide: true }, url };
      return { schema, url: url.slice(API_PREFIX.length) };
    },
  });
}
