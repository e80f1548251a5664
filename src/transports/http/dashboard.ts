import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/**
 * The built dashboard (`web/dist`), found from this module's location: `src/transports/http/` under tsx,
 * `dist/src/transports/http/` after tsc, so the folder is looked for in each ancestor.
 */
export function dashboardRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'web', 'index.html')) || existsSync(join(dir, 'web', 'dist')))
      return join(dir, 'web', 'dist');
    if (dirname(dir) === dir) return join(from, 'web', 'dist');
  }
}

/**
 * The dashboard loads only its own hashed assets and talks only to this server's API: anything else (an injected
 * script, a frame on another site: clickjacking of the publish button) is refused by the browser. Inline styles
 * are allowed because Preact components set `style`; no inline script is.
 */
export const DASHBOARD_SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/**
 * Serves the dashboard's static files. Device protocols own arbitrary top-level paths (`GET /<product>`,
 * `/version.txt`, `/firmware.bin`...), so this claims only the files the build produced (`wildcard: false`
 * registers one route per file, plus `/` for index.html) and never a catch-all. Asset names carry a content
 * hash, so they are cached for a year; index.html is revalidated every time so a new build shows at once.
 */
export async function registerDashboard(app: FastifyInstance, { root }: { root: string }): Promise<void> {
  if (!existsSync(join(root, 'index.html'))) {
    app.get('/', async (_request, reply) => {
      reply.code(503).type('text/plain; charset=utf-8').headers(DASHBOARD_SECURITY_HEADERS);
      return 'The Updraft dashboard is not built. Run `npm run build`, then restart the server.\n';
    });
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    decorateReply: false,
    cacheControl: false,
    setHeaders(res, path) {
      const immutable = path.includes(`${join(root, 'assets')}/`);
      res.setHeader('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      for (const [name, value] of Object.entries(DASHBOARD_SECURITY_HEADERS)) res.setHeader(name, value);
    },
  });
}
