import { publishRelease, releaseForm, type TestServer } from '../support/server.js';

/** Products, versions and the share of the fleet on each: one revoked version, one draft. */
const FLEET = [
  { product: 'thermostat', version: '1.1.0', share: 0.42, state: 'published' },
  { product: 'thermostat', version: '1.0.0', share: 0.21, state: 'published' },
  { product: 'thermostat', version: '0.9.0', share: 0.06, state: 'revoked' },
  { product: 'gateway', version: '2.3.0', share: 0.18, state: 'published' },
  { product: 'gateway', version: '2.4.0', share: 0, state: 'draft' },
  { product: 'riot-sensor', version: '1.0.0', share: 0.13, state: 'published' },
] as const;

const mac = (n: number) =>
  [0x18, 0xfe, 0x34, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join(':');

/**
 * Fills the registry through the real device registry (as the adapters do) and the catalog through the API:
 * `count` devices spread over the fleet's versions.
 */
export async function seedFleet(server: TestServer, count: number): Promise<void> {
  for (const { product, version, state } of FLEET) {
    const files = { 'firmware.bin': Buffer.alloc(4096, version) };
    if (state === 'draft') {
      await server.api(`/api/v1/products/${product}/releases`, {
        method: 'POST',
        body: releaseForm(version, files),
      });
    } else {
      await publishRelease(server, product, version, files);
    }
    if (state === 'revoked')
      await server.api(`/api/v1/products/${product}/releases/${version}/revoke`, { method: 'POST' });
  }
  let n = 0;
  for (const { product, version, share } of FLEET) {
    const end = Math.min(count, n + Math.round(share * count));
    for (; n < end; n++) {
      server.services.devices.checkIn({
        deviceId: mac(n),
        product,
        version,
        protocol: 'esp8266-httpupdate',
        address: `10.0.${(n >> 8) & 0xff}.${n & 0xff}`,
      });
    }
  }
  await server.services.devices.flush();
}
