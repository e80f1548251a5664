/**
 * The management API's OpenAPI 3.1 document, served at /api/v1/openapi.json. A test compares its paths with
 * the routes the server registers, so the two cannot drift apart.
 */
const error = { $ref: '#/components/schemas/Error' };
const errors = {
  '400': { description: 'Bad input', content: { 'application/json': { schema: error } } },
  '401': { description: 'Missing or wrong admin token', content: { 'application/json': { schema: error } } },
  '404': { description: 'Not found', content: { 'application/json': { schema: error } } },
};
const json = (schema: object, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
});
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const list = (name: string) => ({
  type: 'object',
  properties: { items: { type: 'array', items: ref(name) } },
});
const param = (name: string, where: 'path' | 'query' = 'path', description = '') => ({
  name,
  in: where,
  required: where === 'path',
  schema: { type: 'string' },
  description,
});
const product = param('product');
const version = param('version', 'path', 'the version (SemVer, four-part or an opaque name), or its label');

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'Updraft management API', version: '1' },
  servers: [{ url: '/api/v1' }],
  security: [{ bearer: [] }],
  paths: {
    '/products': {
      get: { summary: 'List products', responses: { '200': json(list('Product')), ...errors } },
      post: {
        summary: 'Create a product',
        requestBody: { content: { 'application/json': { schema: ref('NewProduct') } } },
        responses: { '201': json(ref('Product'), 'Created'), '409': errors['400'], ...errors },
      },
    },
    '/products/{product}': {
      parameters: [product],
      get: { summary: 'Get a product', responses: { '200': json(ref('Product')), ...errors } },
      patch: { summary: 'Change a product', responses: { '200': json(ref('Product')), ...errors } },
      delete: {
        summary: 'Delete a product without releases',
        responses: { '204': { description: 'Deleted' }, ...errors },
      },
    },
    '/products/{product}/releases': {
      parameters: [product],
      get: {
        summary: 'List releases, newest version first',
        parameters: [param('state', 'query', 'comma-separated: draft,published,revoked')],
        responses: { '200': json(list('Release')), ...errors },
      },
      post: {
        summary: 'Create a release by streaming multipart upload',
        description:
          'Fields first: `version` (required), `notes`, `publish` (`true` to publish at once), optional `sha256.<artifact>` / `md5.<artifact>` digests to verify. Then one file per artifact: the form field name is the artifact name.',
        requestBody: { content: { 'multipart/form-data': { schema: { type: 'object' } } } },
        responses: {
          '201': json(ref('Release'), 'Created'),
          '409': errors['400'],
          '413': errors['400'],
          '422': errors['400'],
          ...errors,
        },
      },
    },
    '/products/{product}/releases/{version}': {
      parameters: [product, version],
      get: { summary: 'Get a release', responses: { '200': json(ref('Release')), ...errors } },
      delete: { summary: 'Delete a release', responses: { '204': { description: 'Deleted' }, ...errors } },
    },
    '/products/{product}/releases/{version}/publish': {
      parameters: [product, version],
      post: { summary: 'Publish a release', responses: { '200': json(ref('Release')), ...errors } },
    },
    '/products/{product}/releases/{version}/revoke': {
      parameters: [product, version],
      post: { summary: 'Revoke a release', responses: { '200': json(ref('Release')), ...errors } },
    },
    '/products/{product}/releases/{version}/artifacts/{name}': {
      parameters: [product, version, param('name')],
      get: {
        summary: 'Download an artifact (Range, If-None-Match supported)',
        responses: { '200': { description: 'The file' }, '206': { description: 'A range' }, ...errors },
      },
    },
    '/products/{product}/releases/{version}/manifest': {
      parameters: [product, version],
      get: {
        summary: "The release's SUIT manifest, decoded",
        description:
          'The `riot.suit.<seq>.bin` (or `manifest`) artifact as JSON: `artifact`, `format`, `sequenceNumber`, `size`, `components` (offset, size, digest, URI, vendor and class ids) and the whole `envelope` with names. The signature is not checked here. 404 when the release has none.',
        responses: { '200': json({ type: 'object' }), '422': errors['400'], ...errors },
      },
    },
    '/releases': {
      get: {
        summary: 'Recent releases of every product',
        parameters: [param('limit', 'query'), param('state', 'query')],
        responses: { '200': json(list('Release')), ...errors },
      },
    },
    '/devices': {
      get: {
        summary: 'List devices, paginated and filtered',
        parameters: [
          'product',
          'version',
          'search',
          'seenAfter',
          'seenBefore',
          'sort',
          'order',
          'limit',
          'offset',
        ].map((n) => param(n, 'query')),
        responses: {
          '200': json({
            type: 'object',
            properties: { items: { type: 'array', items: ref('Device') }, total: { type: 'integer' } },
          }),
          ...errors,
        },
      },
    },
    '/devices/{id}': {
      parameters: [param('id', 'path', 'device id or MAC in any spelling')],
      get: { summary: 'A device with its history', responses: { '200': json(ref('Device')), ...errors } },
      delete: { summary: 'Forget a device', responses: { '204': { description: 'Deleted' }, ...errors } },
    },
    '/devices/{id}/pin': {
      parameters: [param('id')],
      put: {
        summary: 'Pin a device to a version (null to unpin)',
        responses: { '200': json(ref('Device')), ...errors },
      },
    },
    '/stats': {
      get: {
        summary: 'Fleet counts and check-ins per hour',
        parameters: [param('hours', 'query')],
        responses: { '200': json({ type: 'object' }), ...errors },
      },
    },
    '/publish-ids': {
      get: {
        summary: "RIOT publish ids (the seed's POST /publish): newest file of each name, versions carried",
        responses: { '200': json(list('PublishId')), ...errors },
      },
    },
    '/tokens': {
      get: {
        summary: 'List tokens (never their values)',
        responses: { '200': json({ type: 'object' }), ...errors },
      },
      post: {
        summary: 'Create an admin or device token; the value is shown once',
        responses: { '201': json({ type: 'object' }), ...errors },
      },
    },
    '/tokens/{id}': {
      parameters: [param('id')],
      delete: { summary: 'Revoke a token', responses: { '204': { description: 'Revoked' }, ...errors } },
    },
  } as Record<string, Record<string, unknown>>,
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['code', 'message'],
        properties: { code: { type: 'string' }, message: { type: 'string' } },
      },
      NewProduct: {
        type: 'object',
        required: ['name'],
        properties: {
          name: { type: 'string' },
          description: { type: 'string' },
          deviceFamily: { type: 'string' },
          hardwareClass: { type: 'string' },
          settings: { type: 'object' },
        },
      },
      Product: {
        allOf: [
          ref('NewProduct'),
          { type: 'object', properties: { createdAt: { type: 'string', format: 'date-time' } } },
        ],
      },
      Artifact: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          size: { type: 'integer' },
          sha256: { type: 'string' },
          md5: { type: 'string' },
          contentType: { type: 'string' },
        },
      },
      Release: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          product: { type: 'string' },
          version: { type: 'string' },
          label: { type: ['string', 'null'] },
          notes: { type: 'string' },
          state: { enum: ['draft', 'published', 'revoked'] },
          createdAt: { type: 'string' },
          publishedAt: { type: ['string', 'null'] },
          revokedAt: { type: ['string', 'null'] },
          artifacts: { type: 'array', items: ref('Artifact') },
        },
      },
      PublishId: {
        type: 'object',
        properties: {
          publishId: { type: 'string' },
          files: {
            type: 'array',
            items: {
              type: 'object',
              properties: { name: { type: 'string' }, size: { type: 'integer' }, sha256: { type: 'string' } },
            },
          },
          versions: { type: 'array', items: { type: 'string' } },
        },
      },
      Device: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          product: { type: ['string', 'null'] },
          version: { type: ['string', 'null'] },
        },
      },
    },
  },
};
