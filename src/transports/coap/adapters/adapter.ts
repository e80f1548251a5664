import type { Services } from '../../../core/services.js';
import type { CoapServer } from '../server.js';
import type { CoapClient } from '../client.js';
import type { Peer } from '../message.js';

export interface CoapAdapterOptions {
  /** The CoAP URL devices reach this server at (`--coap-public-url`), e.g. `coap://[2001:db8::1]`. */
  publicUrl: string;
  /** The client the server uses to notify devices (RIOT `/suit/trigger`). */
  client: CoapClient;
  /** The device id to record a request under, or undefined (anonymous); default: every address (deviceIdOf). */
  deviceIds?: (peer: Peer) => string | undefined;
}

/**
 * One CoAP device family: registers its resources on the server and translates requests into core calls. It
 * may subscribe to `services.releaseEvents` to notify observers; it returns a function undoing that.
 */
export type CoapAdapter = (
  server: CoapServer,
  services: Services,
  options: CoapAdapterOptions,
) => (() => void) | void;
