import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Schema from 'typebox/schema';
import { apiRoutes, type ApiRoute } from '../../src/transports/http/management-api.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * The official OpenAPI 3.1 JSON Schema (test/fixtures/openapi-3.1/README.md), with the one erratum its later
 * revisions made that matters here: a server URL may be relative (`/api/v1`), as the specification says.
 */
function openApi31Schema(): Record<string, unknown> {
  const schema = JSON.parse(
    readFileSync(new URL('../fixtures/openapi-3.1/schema.json', import.meta.url), 'utf8'),
  ) as { $defs: { server: { properties: Record<string, unknown> } } };
  schema.$defs.server.properties.url = { type: 'string', format: 'uri-reference' };
  return schema;
}

type Operation = {
  summary?: string;
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
};
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

const methodsOf = (route: ApiRoute) =>
  (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
/** `/api/v1/products/:product` → `/products/{product}`, as the document spells it. */
const documentPath = (url: string) => url.replace(/^\/api\/v1/, '').replace(/:(\w+)/g, '{$1}');
/** Actions named by their path (publish, revoke) take no body. */
const BODYLESS = /\/(publish|revoke)$/;

describe('OpenAPI document', () => {
  let server: TestServer;
  let doc: Document;

  before(async () => {
    server = await startTestServer();
    const res = await fetch(`${server.url}/api/v1/openapi.json`);
    assert.equal(res.status, 200);
    doc = (await res.json()) as Document;
  });
  after(() => server.close());

  it('validates against the OpenAPI 3.1 schema, which rejects a broken document', () => {
    const schema = openApi31Schema();
    const [valid, errors] = Schema.Errors(schema, doc);
    assert.deepEqual(errors, []);
    assert.equal(valid, true);
    assert.equal(doc.openapi, '3.1.0');
    const broken = { ...doc, paths: { '/x': { get: { responses: { '200': { content: 1 } } } } } };
    assert.equal(Schema.Check(schema, broken), false);
    assert.equal(Schema.Check(schema, { ...doc, info: undefined }), false);
  });

  it('every /api/v1 route declares its schemas, and the document lists exactly those routes', () => {
    const routes = apiRoutes(server.http).filter((r) => !r.url.endsWith('/openapi.json'));
    assert.ok(routes.length >= 16, `only ${routes.length} routes seen`);
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    const served = new Set<string>();
    for (const route of routes) {
      for (const method of methodsOf(route)) {
        const key = `${method} ${route.url}`;
        served.add(`${method} ${documentPath(route.url)}`);
        const schema = route.schema as Record<string, unknown> | undefined;
        assert.ok(schema, `${key} has no schema`);
        assert.ok(typeof schema.summary === 'string' && schema.summary, `${key} has no summary`);
        assert.ok(Array.isArray(schema.tags) && schema.tags.length, `${key} has no tags`);
        const response = schema.response as Record<string, unknown> | undefined;
        assert.ok(response, `${key} declares no response`);
        assert.ok(
          Object.keys(response).some((s) => /^2\d\d$/.test(s)),
          `${key} declares no success response`,
        );
        assert.ok(response['400'] && response['401'], `${key} does not declare its 400 and 401 errors`);
        const pathParams = [...route.url.matchAll(/:(\w+)/g)].map((m) => m[1] as string);
        if (pathParams.length) {
          const params = schema.params as { properties?: Record<string, unknown> } | undefined;
          assert.deepEqual(
            Object.keys(params?.properties ?? {}).sort(),
            pathParams.sort(),
            `${key} params schema`,
          );
        }
        if (['POST', 'PUT', 'PATCH'].includes(method) && !BODYLESS.test(route.url)) {
          assert.ok(schema.body || schema.consumes, `${key} declares no body`);
        }
        const op = doc.paths[documentPath(route.url)]?.[method.toLowerCase()];
        assert.ok(op, `served but not documented: ${key}`);
        for (const name of pathParams) {
          assert.ok(
            op.parameters?.some((p) => p.in === 'path' && p.name === name),
            `${key}: path parameter ${name} is not documented`,
          );
        }
        if (schema.body || schema.consumes) assert.ok(op.requestBody, `${key}: request body not documented`);
      }
    }
    assert.deepEqual([...documented].sort(), [...served].sort());
  });

  it('documents the multipart upload form and the error body', () => {
    const upload = doc.paths['/products/{product}/releases']?.post;
    assert.ok(upload?.requestBody?.content['multipart/form-data'], 'upload form');
    const tokenErrors = doc.paths['/tokens']?.post?.responses['400'];
    assert.deepEqual(
      (tokenErrors?.content?.['application/json']?.schema as { required: string[] }).required,
      ['code', 'message'],
    );
  });
});
