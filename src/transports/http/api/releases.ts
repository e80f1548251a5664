import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../../../core/services.js';
import { auditContextOf } from '../admin-auth.js';
import type { ReleaseState } from '../../../core/catalog/types.js';
import { sendBlob } from '../send-blob.js';
import { toHttpError } from '../error-status.js';
import { receiveRelease } from './receive-release.js';
import {
  ArtifactParams,
  errors,
  ListOf,
  NoContent,
  ProductParams,
  Release,
  ReleaseParams,
} from './schemas.js';
import { newestFirst } from '../../../core/versions/release-version.js';

const tags = ['releases'];
const STATE = '(draft|published|revoked)';
const StatesQuery = Type.String({
  pattern: `^${STATE}(,${STATE})*$`,
  description: 'comma-separated: draft,published,revoked',
});
const parseStates = (value: string | undefined) => (value ? (value.split(',') as ReleaseState[]) : undefined);

/**
 * The upload's form, for the OpenAPI document only: the body is multipart, streamed by `receiveRelease` and
 * never parsed into `request.body`, so it is not validated by schema (receiveRelease checks each part).
 */
const UploadForm = Type.Object(
  {
    version: Type.String({ description: 'Required, and before the files' }),
    notes: Type.Optional(Type.String()),
    publish: Type.Optional(Type.String({ description: '`true` to publish at once' })),
  },
  {
    additionalProperties: Type.String({
      format: 'binary',
      description:
        'One file per artifact, the field name being the artifact name; `sha256.<artifact>` / `md5.<artifact>` ' +
        'fields (hex, before the file) are verified against it',
    }),
  },
);

export function registerReleaseRoutes(
  app: FastifyInstance,
  services: Pick<Services, 'products' | 'releases'>,
  options: { maxUploadBytes: number; downloadRedirectTtlS?: number },
): void {
  const { products, releases } = services;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    '/releases',
    {
      schema: {
        tags,
        summary: 'Recent releases of every product',
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
          state: Type.Optional(StatesQuery),
        }),
        response: { 200: ListOf(Release), ...errors() },
      },
    },
    async (request) => ({
      items: await releases.listRecent(request.query.limit, parseStates(request.query.state)),
    }),
  );

  api.get(
    '/products/:product/releases',
    {
      schema: {
        tags,
        summary: 'List releases, newest version first',
        params: ProductParams,
        querystring: Type.Object({ state: Type.Optional(StatesQuery) }),
        response: { 200: ListOf(Release), ...errors(404) },
      },
    },
    async (request) => {
      await products.get(request.params.product);
      const items = await releases.list(request.params.product, parseStates(request.query.state));
      return { items: newestFirst(items) };
    },
  );

  api.post(
    '/products/:product/releases',
    {
      schema: {
        tags,
        summary: 'Create a release by streaming multipart upload',
        description:
          'Fields first: `version` (required), `notes`, `publish` (`true` to publish at once), optional ' +
          '`sha256.<artifact>` / `md5.<artifact>` digests to verify. Then one file per artifact: the form field ' +
          'name is the artifact name.',
        consumes: ['multipart/form-data'],
        params: ProductParams,
        response: { 201: Release, ...errors(404, 409, 413, 415, 422) },
      },
      config: {
        swaggerTransform: ({ schema, url }: { schema: object; url: string }) => ({
          schema: { ...schema, body: UploadForm },
          url: url.slice('/api/v1'.length),
        }),
      },
    },
    async (request, reply) => {
      const release = await receiveRelease(request, releases, request.params.product, options.maxUploadBytes);
      reply.code(201);
      return release;
    },
  );

  api.get(
    '/products/:product/releases/:version',
    {
      schema: {
        tags,
        summary: 'Get a release',
        params: ReleaseParams,
        response: { 200: Release, ...errors(404) },
      },
    },
    async (request) => releases.get(request.params.product, request.params.version),
  );

  api.post(
    '/products/:product/releases/:version/publish',
    {
      schema: {
        tags,
        summary: 'Publish a release',
        params: ReleaseParams,
        response: { 200: Release, ...errors(404, 409) },
      },
    },
    async (request) =>
      releases.publish(auditContextOf(request), request.params.product, request.params.version),
  );

  api.post(
    '/products/:product/releases/:version/revoke',
    {
      schema: {
        tags,
        summary: 'Revoke a release',
        params: ReleaseParams,
        response: { 200: Release, ...errors(404, 409) },
      },
    },
    async (request) =>
      releases.revoke(auditContextOf(request), request.params.product, request.params.version),
  );

  api.delete(
    '/products/:product/releases/:version',
    {
      schema: {
        tags,
        summary: 'Delete a release and the files no other release shares',
        params: ReleaseParams,
        response: { 204: NoContent, ...errors(404) },
      },
    },
    async (request, reply) => {
      await releases.delete(auditContextOf(request), request.params.product, request.params.version);
      reply.code(204).send(null);
    },
  );

  api.get(
    '/products/:product/releases/:version/artifacts/:name',
    {
      schema: {
        tags,
        summary: 'Download an artifact (Range, If-None-Match supported)',
        params: ArtifactParams,
        produces: ['application/octet-stream'],
        response: {
          200: Type.String({ format: 'binary', description: 'The file' }),
          206: Type.String({ format: 'binary', description: 'A range of the file' }),
          302: Type.Null({ description: 'Redirect to a presigned object-store URL (--s3-redirect)' }),
          304: Type.Null({ description: 'Not modified (If-None-Match)' }),
          ...errors(404),
          416: Type.Null({ description: 'Range not satisfiable' }),
        },
      },
    },
    async (request, reply) => {
      const release = await releases.get(request.params.product, request.params.version);
      const artifact = releases.artifact(release, request.params.name);
      // Browsers and curl -L follow a redirect (and drop the Authorization header on the way to the store).
      if (options.downloadRedirectTtlS && request.method === 'GET') {
        const url = await releases.downloadUrl(artifact, options.downloadRedirectTtlS);
        if (url)
          return reply.code(302).header('Location', url).header('Cache-Control', 'no-store').send(null);
      }
      reply.hijack();
      try {
        await sendBlob(request.raw, reply.raw, {
          size: artifact.size,
          sha256: artifact.sha256,
          // The uploader's type is not trusted: a `text/html` artifact must never render in a browser.
          contentType: 'application/octet-stream',
          headers: {
            'X-Content-Type-Options': 'nosniff',
            'Content-Disposition': `attachment; filename="${artifact.name}"`,
            'x-MD5': artifact.md5,
          },
          open: (range) => releases.openArtifact(artifact, range),
        });
      } catch (err) {
        // Hijacked: fastify's error handler cannot answer any more, so a missing blob is answered here.
        const { status, body } = toHttpError(err);
        request.log.error({ err, artifact: artifact.name }, 'artifact download failed');
        if (!reply.raw.headersSent) {
          const json = JSON.stringify(body);
          reply.raw.writeHead(status, {
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': Buffer.byteLength(json),
          });
          reply.raw.end(json);
        } else reply.raw.destroy();
      }
    },
  );
}
