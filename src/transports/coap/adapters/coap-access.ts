/**
 * What CoAP may serve of each product (issue 13, defect 3; docs/coap.md, "Access"). CoAP has no HTTP Basic,
 * and DTLS is not offered, so a product's images are served over CoAP only as its setting allows:
 *
 *   settings.coapAccess = "open"                 served to anyone (the default for a product without
 *                                                httpBasicAuth)
 *   settings.coapAccess = "off"                  nothing served or listed over CoAP (the default for a product
 *                                                with httpBasicAuth: HTTP's protection is not bypassed)
 *   settings.coapAccess = { "token": "<secret>" } served only to requests carrying `?k=<secret>` (Uri-Query,
 *                                                RFC 7252 §6.5); never listed in /.well-known/core
 *
 * Anything else fails closed ("off"). A token shorter than 16 characters is refused as "off" too.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Product } from '../../../core/catalog/types.js';
import type { Services } from '../../../core/services.js';
import { createLoadingCache } from '../../../core/cache.js';
import { Code } from '../message.js';
import type { CoapReply, CoapRequest } from '../resource.js';

export type CoapAccess = 'open' | 'off' | { token: Buffer };

const MIN_TOKEN = 16;
const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function coapAccessOf(product: Product): CoapAccess {
  const setting = product.settings.coapAccess;
  if (setting === undefined || setting === null) {
    return product.settings.httpBasicAuth === undefined || product.settings.httpBasicAuth === null
      ? 'open'
      : 'off';
  }
  if (setting === 'open' || setting === 'off') return setting;
  const token = (setting as { token?: unknown }).token;
  if (typeof setting === 'object' && typeof token === 'string' && token.length >= MIN_TOKEN) {
    return { token: digest(token) };
  }
  return 'off';
}

/** Whether the product may be listed in /.well-known/core: only products open to anyone. */
export const listable = (product: Product): boolean => coapAccessOf(product) === 'open';

/** `?k=<token>`, compared in constant time over digests (no length leak). */
function carriesToken(req: Pick<CoapRequest, 'query'>, token: Buffer): boolean {
  const sent = req.query.find((q) => q.startsWith('k='));
  return sent !== undefined && timingSafeEqual(digest(sent.slice(2)), token);
}

/** Undefined when the request may be served; otherwise the reply that refuses it (4.04 when off, 4.01). */
export function refusal(product: Product, req: Pick<CoapRequest, 'query'>): CoapReply | undefined {
  const access = coapAccessOf(product);
  if (access === 'open') return undefined;
  if (access === 'off') return { code: Code.NOT_FOUND };
  return carriesToken(req, access.token) ? undefined : { code: Code.UNAUTHORIZED };
}

/**
 * Products by name for adapters that only know a release's product name (STM32, publish ids): cached 2 s, the
 * same window as the core's published-release cache, so a block costs one map lookup, not a query. The one cache
 * helper (core/cache.ts) in the `products` family: a product change made through any replica drops it at once
 * (a `coapAccess` turned off is not served from here for another 2 s). A name that is no product is remembered
 * too, so a device asking for one does not cost a query per request.
 */
export function createProductLookup(
  services: Pick<Services, 'products'> & Partial<Pick<Services, 'events'>>,
  ttlMs = 2000,
) {
  const cache = createLoadingCache<{ product: Product | undefined }>({
    name: 'products',
    ttlMs,
    max: 10_000,
    bus: services.events,
    load: async (name) => ({ product: await services.products.find(name) }),
  });
  return async (name: string): Promise<Product | undefined> => (await cache.get(name))?.product;
}
