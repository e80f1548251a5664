import { hostname, networkInterfaces } from 'node:os';

/**
 * The names and addresses this machine answers to, as URL hosts (`[::1]`, `127.0.0.1`, `localhost`): what an
 * uploaded SUIT manifest's URIs may name when no `--coap-public-url` says which one devices use. Read on each call,
 * so that an address added after start-up counts.
 */
export function ownHosts(): string[] {
  const hosts = new Set(['localhost', hostname().toLowerCase()]);
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) {
      // The zone of a link-local address is not part of a URL's host (RFC 6874 spells it %25, devices do not).
      const address = a.address.toLowerCase().replace(/%.*$/, '');
      hosts.add(a.family === 'IPv6' ? `[${address}]` : address);
    }
  }
  return [...hosts];
}
