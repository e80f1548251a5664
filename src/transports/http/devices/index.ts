import type { DeviceAdapter } from '../device-adapters.js';
import { espAtAdapter } from './esp-at/index.js';
import { espHttpUpdateAdapter } from './esp-httpupdate/index.js';
import { simplePollingAdapter } from './simple-polling/index.js';
import { riotSeedAdapter } from './riot-seed/index.js';
import { ddiAdapter } from './ddi/index.js';
import { swupdateGeneralAdapter } from './swupdate-general/index.js';

/**
 * Every HTTP device family, in registration order. The router prefers static and parametric routes over the
 * ESP httpUpdate catch-all (`GET /*`) whatever the order; it stays last so that reads as it behaves.
 */
export const deviceAdapters: DeviceAdapter[] = [
  espAtAdapter,
  simplePollingAdapter,
  riotSeedAdapter,
  ddiAdapter,
  swupdateGeneralAdapter,
  espHttpUpdateAdapter,
];
