import type { DeviceAdapter } from '../device-adapters.js';

/** Every HTTP device family, in registration order. */
export const deviceAdapters: DeviceAdapter[] = [];
