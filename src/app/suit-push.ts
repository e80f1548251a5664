import type { Services } from '../core/services.js';
import type { PushOffers } from '../core/deployments/deployment-service.js';
import type { SuitDevices } from '../core/riot-publish/notify.js';
import { riotManifestOf } from '../transports/coap/adapters/catalog-resolve.js';

/**
 * Deployments of a SUIT release to RIOT devices: as a device's wave opens, the scheduler tells it to fetch the
 * release's manifest (`POST /suit/trigger` with the manifest's CoAP URL, the path `updraft notify` uses;
 * device-protocols.md §4.1). Members of a `riot` product are pushed to; the manifest is the catalog resource
 * `/fw/<product>/<board>/riot.suit.<seq>.bin`.
 */
export function createSuitPush(
  devices: SuitDevices,
  services: Pick<Services, 'products'>,
  coapPublicUrl: string,
  timeoutMs: number,
): PushOffers {
  return {
    handles(protocol, release) {
      if (!coapPublicUrl || !riotManifestOf(release)) return false;
      return protocol === null || protocol === 'riot-suit';
    },
    async offer(deviceId, release) {
      const manifest = riotManifestOf(release);
      const product = await services.products.find(release.product);
      if (!manifest || !product?.hardwareClass || devices.address(deviceId) === undefined) return false;
      const root = coapPublicUrl.replace(/\/+$/, '');
      const manifestUrl = `${root}/fw/${product.name}/${product.hardwareClass}/${manifest.artifact.name}`;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      try {
        const outcome = await Promise.race([
          devices.notify(deviceId, { kind: 'single', manifestUrl }).then((o) => o.status === 'ok'),
          deadline,
        ]);
        return outcome;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
