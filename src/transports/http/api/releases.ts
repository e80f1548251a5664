import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../../../core/services.js';
import type { ReleaseState } from '../../../core/catalog/types.js';
import { sendBlob } from '../send-blob.js';
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
  options: { maxUploadBytes: number },
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
      return { items: items.sort((a, b) => releases.compare(b.version, a.version)) };
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
    async (request) => releases.publish(request.params.product, request.params.version),
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
    async (request) => releases.revoke(request.params.product, request.params.version),
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
      await releases.delete(request.params.product, request.params.version);
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
          304: Type.Null({ description: 'Not modified (If-None-Match)' }),
          ...errors(404),
          416: Type.Null({ description: 'Range not satisfiable' }),
        },
      },
    },
    async (request, reply) => {
      const release = await releases.get(request.params.product, request.params.version);
      const artifact = releases.artifact(release, request.params.name);
      reply.hijack();
      await sendBlob(request.raw, reply.raw, {
        size: artifact.size,
        sha256: artifact.sha256,
        contentType: artifact.contentType,
        headers: {
          'Content-Disposition': `attachment; filename="${artifact.name}"`,
          'x-MD5': artifact.md5,
        },
        open: (range) => releases.openArtifact(artifact, range),
      });
    },
  );
}
