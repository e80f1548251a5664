import type { CoapAdapter } from './adapter.js';

/** Every CoAP device family, in registration order. */
export const coapAdapters: CoapAdapter[] = [];
