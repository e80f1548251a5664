import type { FastifyInstance } from 'fastify';
import type { Services } from '../../../core/services.js';
import type { ReleaseState } from '../../../core/catalog/types.js';
import { DomainError } from '../../../core/errors.js';
import { sendBlob } from '../send-blob.js';
import { receiveRelease } from './receive-release.js';
import { newestFirst } from '../../../core/versions/release-version.js';

type ReleaseParams = { product: string; version: string };
const STATES: ReleaseState[] = ['draft', 'published', 'revoked'];

function parseStates(value: unknown): ReleaseState[] | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const states = value.split(',');
  for (const s of states) {
    if (!STATES.includes(s as ReleaseState)) throw new DomainError('INVALID_INPUT', `unknown state "${s}"`);
  }
  return states as ReleaseState[];
}

export function registerReleaseRoutes(
  app: FastifyInstance,
  services: Pick<Services, 'products' | 'releases'>,
  options: { maxUploadBytes: number },
): void {
  const { products, releases } = services;

  app.get<{ Querystring: { limit?: string; state?: string } }>('/releases', async (request) => {
    const limit = Math.min(Math.max(Number(request.query.limit ?? 20) || 20, 1), 500);
    return { items: await releases.listRecent(limit, parseStates(request.query.state)) };
  });

  app.get<{ Params: { product: string }; Querystring: { state?: string } }>(
    '/products/:product/releases',
    async (request) => {
      await products.get(request.params.product);
      const items = await releases.list(request.params.product, parseStates(request.query.state));
      return { items: newestFirst(items) };
    },
  );

  app.post<{ Params: { product: string } }>('/products/:product/releases', async (request, reply) => {
    const release = await receiveRelease(request, releases, request.params.product, options.maxUploadBytes);
    reply.code(201);
    return release;
  });

  app.get<{ Params: ReleaseParams }>('/products/:product/releases/:version', async (request) =>
    releases.get(request.params.product, request.params.version),
  );

  app.post<{ Params: ReleaseParams }>('/products/:product/releases/:version/publish', async (request) =>
    releases.publish(request.params.product, request.params.version),
  );

  app.post<{ Params: ReleaseParams }>('/products/:product/releases/:version/revoke', async (request) =>
    releases.revoke(request.params.product, request.params.version),
  );

  app.delete<{ Params: ReleaseParams }>('/products/:product/releases/:version', async (request, reply) => {
    await releases.delete(request.params.product, request.params.version);
    reply.code(204).send();
  });

  app.get<{ Params: ReleaseParams & { name: string } }>(
    '/products/:product/releases/:version/artifacts/:name',
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
