import type { FastifyInstance } from 'fastify';
import type { Services } from '../../core/services.js';

/** Options the device adapters share (set from the configuration by app/). */
export interface DeviceAdapterOptions {
  /** When set, downloads are answered with `X-Accel-Redirect: <prefix>/<blob path>` (nginx in front). */
  accelRedirectPrefix?: string;
}

/** One entry per device family: each registers its own routes and translates them into core calls. */
export type DeviceAdapter = (app: FastifyInstance, services: Services, options: DeviceAdapterOptions) => void;
