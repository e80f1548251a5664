import type { FastifyRequest } from 'fastify';
import type { Services } from '../../../../core/services.js';
import type { Product } from '../../../../core/catalog/types.js';
import type { DdiDevice, KnownDevices } from './known-devices.js';
import type { TokenLookup } from './token-lookup.js';
import { ddiSettings } from '../../../../core/catalog/ddi-settings.js';

/** hawkBit controller ids are free text; Updraft takes what fits a device id and a URL segment safely. */
export const CONTROLLER_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

export interface DdiIdentity {
  product: Product;
  deviceId: string;
  device: DdiDevice | undefined;
}

export type AuthFailure = { status: 401 | 403 | 404; message: string };

/** `Authorization: TargetToken <t>` / `GatewayToken <t>` (hawkBit docs/authentication.md). */
export function parseDdiAuthorization(
  header: string | undefined,
): { scheme: 'target' | 'gateway'; token: string } | undefined {
  const m = header ? /^(TargetToken|GatewayToken)\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) return undefined;
  return {
    scheme: (m[1] as string).toLowerCase() === 'targettoken' ? 'target' : 'gateway',
    token: m[2] as string,
  };
}

export const tenantAllows = (tenants: Record<string, string[]>, tenant: string, product: string): boolean => {
  const products = tenants[tenant];
  return products !== undefined && (products.includes('*') || products.includes(product));
};

/**
 * Who is asking, and for which product:
 * - a TargetToken is a device token bound to this controller id (`updraft tokens create --device --device-id <id>
 *   --product <p>`);
 * - a GatewayToken is a device token bound to a product and to no device: any controller id of that product,
 *   registered on first sight (plug-and-play, as hawkBit does);
 * - no token: only when the product turned `settings.ddi.anonymous` on (the device's product when it is known,
 *   else the one such product the tenant sees).
 * A device belongs to the product of its token; a token of another product is refused for a known device.
 */
export async function identify(
  services: Services,
  cache: KnownDevices,
  tokens: TokenLookup,
  tenants: Record<string, string[]>,
  request: FastifyRequest,
  tenant: string,
  deviceId: string,
): Promise<DdiIdentity | AuthFailure> {
  if (!tenants[tenant]) return { status: 404, message: `no DDI tenant "${tenant}"` };
  if (!CONTROLLER_ID.test(deviceId)) {
    return { status: 404, message: 'a controller id is 1-128 of [A-Za-z0-9._:@-]' };
  }
  const device = await cache.get(deviceId);
  const auth = parseDdiAuthorization(request.headers.authorization);
  let productName: string | undefined;
  if (auth) {
    const record = await tokens.authenticate(auth.token);
    if (!record) return { status: 401, message: 'unknown token' };
    if (auth.scheme === 'target' && record.device !== deviceId) {
      return { status: 401, message: 'this TargetToken is not bound to this controller id' };
    }
    if (auth.scheme === 'gateway' && (record.device !== null || !record.product)) {
      return { status: 401, message: 'a GatewayToken is a device token bound to a product and to no device' };
    }
    productName = record.product ?? cache.productOf(deviceId, device);
    if (!productName) return { status: 403, message: 'the token names no product and the device is unknown' };
  } else if (request.headers.authorization) {
    return { status: 401, message: 'expected Authorization: TargetToken <token> or GatewayToken <token>' };
  } else {
    const known = cache.productOf(deviceId, device);
    const candidates = known
      ? [known]
      : (await services.products.list()).map((p) => p.name).filter((p) => tenantAllows(tenants, tenant, p));
    const open: string[] = [];
    for (const name of candidates) {
      const p = await services.products.find(name);
      if (p && ddiSettings(p).anonymous) open.push(name);
    }
    if (open.length !== 1)
      return { status: 401, message: 'authentication required (TargetToken or GatewayToken)' };
    productName = open[0];
  }
  const product = productName ? await services.products.find(productName) : undefined;
  if (!product || !tenantAllows(tenants, tenant, product.name)) {
    return { status: 404, message: `tenant "${tenant}" has no product for this device` };
  }
  const owner = cache.productOf(deviceId, device);
  if (owner && owner !== product.name) {
    return { status: 403, message: `device "${deviceId}" belongs to another product` };
  }
  if (!owner) cache.claim(deviceId, product.name);
  return { product, deviceId, device };
}
