import type { CoapAdapter } from './adapter.js';
import { catalogResources } from './catalog-resources.js';
import { stm32Updates } from './stm32-updates.js';
import { riotPublishAdapter } from './riot-publish.js';

/**
 * Every CoAP device family, in registration order. Order matters: the router tries parametric routes in the
 * order they were added, so these fixed-prefix ones (`/fw/...`, `/updates/:id`) come before any catch-all such
 * as a seed's `/<publish_id>/<file>`.
 */
export const coapAdapters: CoapAdapter[] = [catalogResources, stm32Updates, riotPublishAdapter];
