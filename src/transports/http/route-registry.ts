import type { FastifyInstance, FastifySchema, HTTPMethods } from 'fastify';

export interface RegisteredRoute {
  method: HTTPMethods | HTTPMethods[];
  url: string;
  schema: FastifySchema | undefined;
}

const registered = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/**
 * Remembers every route the app registers, with its schema, from here on. Tests enumerate them: every
 * management route must declare schemas, and the bad-input sweep sends garbage to every route there is.
 */
export function trackRoutes(app: FastifyInstance): void {
  const routes: RegisteredRoute[] = [];
  registered.set(app, routes);
  app.addHook('onRoute', ({ method, url, schema }) => {
    routes.push({ method, url, schema });
  });
}

export function routesOf(app: FastifyInstance): readonly RegisteredRoute[] {
  return registered.get(app) ?? [];
}
