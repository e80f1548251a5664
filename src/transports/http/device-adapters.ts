import type { FastifyInstance } from 'fastify';
import type { Services } from '../../core/services.js';
import type { NotifyLimits, SuitDevices } from '../../core/riot-publish/notify.js';

/** Options the device adapters share (set from the configuration by app/). */
export interface DeviceAdapterOptions {
  /** When set, downloads are answered with `X-Accel-Redirect: <prefix>/<blob path>` (nginx in front). */
  accelRedirectPrefix?: string;
  /** The RIOT seed's endpoints (devices/riot-seed); without it: admin token required, notify refused. */
  riotSeed?: RiotSeedOptions;
}

export interface RiotSeedOptions extends NotifyLimits {
  /** Require the admin token (config `seedEndpointsAuth`). */
  auth: boolean;
  /**
   * `--coap-public-url`: the root of the manifest URLs sent to devices. Empty: derived per request from the HTTP
   * `Host` and the CoAP port, as the seed's `--coap-host`/`--coap-port` defaults did.
   */
  coapPublicUrl: string;
  /** The CoAP endpoint's port, for deriving URLs without a public URL; undefined when CoAP is off. */
  coapPort?: () => number | undefined;
  /** Largest `POST /publish`, bytes (config `maxUploadBytes`). */
  maxUploadBytes: number;
  devices: SuitDevices;
}

/** One entry per device family: each registers its own routes and translates them into core calls. */
export type DeviceAdapter = (app: FastifyInstance, services: Services, options: DeviceAdapterOptions) => void;
