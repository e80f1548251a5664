import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routing (`#/devices/aa%3Abb...`): the server serves one `index.html` at `/` and never sees the route, so
 * the dashboard claims no path that a device protocol might want.
 */
export type Route =
  | { page: 'overview' }
  | { page: 'products' }
  | { page: 'product'; product: string }
  | { page: 'release'; product: string; version: string }
  | { page: 'devices' }
  | { page: 'device'; id: string }
  | { page: 'publish-ids' }
  | { page: 'deployments' }
  | { page: 'deployment'; id: string }
  | { page: 'audit' }
  | { page: 'not-found' };

function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [first, second, third, fourth] = parts;
  if (parts.length === 0) return { page: 'overview' };
  if (first === 'products') {
    if (second === undefined) return { page: 'products' };
    if (third === undefined) return { page: 'product', product: second };
    if (third === 'releases' && fourth !== undefined && parts.length === 4) {
      return { page: 'release', product: second, version: fourth };
    }
  }
  if (first === 'devices') {
    if (second === undefined) return { page: 'devices' };
    if (parts.length === 2) return { page: 'device', id: second };
  }
  if (first === 'publish-ids' && parts.length === 1) return { page: 'publish-ids' };
  if (first === 'deployments') {
    if (second === undefined) return { page: 'deployments' };
    if (parts.length === 2) return { page: 'deployment', id: second };
  }
  if (first === 'audit' && parts.length === 1) return { page: 'audit' };
  return { page: 'not-found' };
}

const enc = encodeURIComponent;
export const href = {
  overview: () => '#/',
  products: () => '#/products',
  product: (product: string) => `#/products/${enc(product)}`,
  release: (product: string, version: string) => `#/products/${enc(product)}/releases/${enc(version)}`,
  devices: () => '#/devices',
  device: (id: string) => `#/devices/${enc(id)}`,
  publishIds: () => '#/publish-ids',
  deployments: () => '#/deployments',
  deployment: (id: string) => `#/deployments/${enc(id)}`,
  audit: () => '#/audit',
};

export function navigate(to: string): void {
  window.location.hash = to;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
