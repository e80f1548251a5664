import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../../../core/services.js';
import { auditContextOf } from '../admin-auth.js';
import { errors, ListOf, NewProduct, NoContent, Product, ProductParams, ProductPatch } from './schemas.js';

const tags = ['products'];

export function registerProductRoutes(app: FastifyInstance, { products }: Pick<Services, 'products'>): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    '/products',
    { schema: { tags, summary: 'List products', response: { 200: ListOf(Product), ...errors() } } },
    async () => ({ items: await products.list() }),
  );

  api.post(
    '/products',
    {
      schema: {
        tags,
        summary: 'Create a product',
        body: NewProduct,
        response: { 201: Product, ...errors(409) },
      },
    },
    async (request, reply) => {
      reply.code(201);
      return products.create(auditContextOf(request), request.body);
    },
  );

  api.get(
    '/products/:product',
    {
      schema: {
        tags,
        summary: 'Get a product',
        params: ProductParams,
        response: { 200: Product, ...errors(404) },
      },
    },
    async (request) => products.get(request.params.product),
  );

  api.patch(
    '/products/:product',
    {
      schema: {
        tags,
        summary: 'Change a product',
        params: ProductParams,
        body: ProductPatch,
        response: { 200: Product, ...errors(404) },
      },
    },
    async (request) => products.update(auditContextOf(request), request.params.product, request.body),
  );

  api.delete(
    '/products/:product',
    {
      schema: {
        tags,
        summary: 'Delete a product without releases',
        params: ProductParams,
        response: { 204: NoContent, ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      await products.delete(auditContextOf(request), request.params.product);
      reply.code(204).send(null);
    },
  );
}
