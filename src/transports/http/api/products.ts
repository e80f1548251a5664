import type { FastifyInstance } from 'fastify';
import type { Services } from '../../../core/services.js';
import type { NewProduct, ProductPatch } from '../../../core/catalog/types.js';

export function registerProductRoutes(app: FastifyInstance, { products }: Pick<Services, 'products'>): void {
  app.get('/products', async () => ({ items: await products.list() }));

  app.post<{ Body: NewProduct }>('/products', async (request, reply) => {
    const body = (request.body ?? {}) as NewProduct;
    reply.code(201);
    return products.create(body);
  });

  app.get<{ Params: { product: string } }>('/products/:product', async (request) =>
    products.get(request.params.product),
  );

  app.patch<{ Params: { product: string }; Body: ProductPatch }>('/products/:product', async (request) =>
    products.update(request.params.product, (request.body ?? {}) as ProductPatch),
  );

  app.delete<{ Params: { product: string } }>('/products/:product', async (request, reply) => {
    await products.delete(request.params.product);
    reply.code(204).send();
  });
}
