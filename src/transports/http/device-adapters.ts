import type { FastifyInstance } from 'fastify';
import type { Services } from '../../core/services.js';
import type { NotifyLimits, SuitDevices } from '../../core/riot-publish/notify.js';

/** Options the device adapters share (set from the configuration by app/). */
export interface DeviceAdapterOptions {
  /** When set, downloads are answered with `X-Accel-Redirect: <prefix>/<blob path>` (nginx in front). */
  accelRedirectPrefix?: string;
  /**
   * When set (an S3 blob store with `--s3-redirect`), clients known to follow redirects (browsers and curl on the
   * management API, DDI/SWUpdate) get a `302` to a presigned URL valid this many seconds instead of the body.
   */
  downloadRedirectTtlS?: number;
  /** The RIOT seed's endpoints (devices/riot-seed); without it: admin token required, notify refused. */
  riotSeed?: RiotSeedOptions;
  /** hawkBit DDI tenants → the products each may see (`*` = all); default `{ default: ['*'] }`. */
  ddiTenants?: Record<string, string[]>;
  /**
   * Lets whatever feeds the catalog from outside (the drop folder, wired by app/) pick up what was written for
   * `product` a moment ago, before a download is looked up. Bounded in time, never rejects; absent: no such feed.
   */
  freshen?: (product: string) => Promise<void>;
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
  /** Devices one notify request may name (config `notifyMaxDevices`). */
  maxDevices?: number;
  /** Devices waiting to be notified over all requests together (config `notifyMaxQueued`). */
  maxQueued?: number;
  /** Addresses / CIDR prefixes and ports notify may contact; empty = any (config `notifyAllow`, `notifyPorts`). */
  allow?: string[];
  ports?: number[];
}

/** One entry per device family: each registers its own routes and translates them into core calls. */
export type DeviceAdapter = (app: FastifyInstance, services: Services, options: DeviceAdapterOptions) => void;
