import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DeviceAdapter } from '../../device-adapters.js';
import { isDomainError } from '../../../../core/errors.js';
import { normalizeMac } from '../../../../core/devices/mac.js';
import { deviceVersion, first, productOfFamily, serveArtifact } from '../serve-artifact.js';

/**
 * Simple polling devices (the ruslan-kornich/ota_server seed, ../shared/specs/seeds.md §5): headers `_br_mac_`
 * and `_br_fwv_` on `GET /version.txt` and `GET /firmware.bin`. The requests name no product: they are served
 * from the one product whose device family is `simple-polling`.
 */
const FAMILY = 'simple-polling';
const ARTIFACTS = ['firmware.bin'];

// The seed's check (handlers/handler.py): re.match(r"[0-9a-f]{2}([:-][0-9a-f]{2}){5}$", mac.lower()).
const SEED_MAC = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/;

function text(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=utf-8').send(body);
}

/** The header gate every path has in the seed: both headers, a MAC the seed accepts, else 401 `Unauthorized`. */
function identify(request: FastifyRequest): { deviceId: string; version: string } | undefined {
  const mac = first(request.headers['_br_mac_'])?.trim();
  const version = first(request.headers['_br_fwv_'])?.trim();
  if (!mac || !version || version.length > 128 || !SEED_MAC.test(mac.toLowerCase())) return undefined;
  const deviceId = normalizeMac(mac);
  return deviceId ? { deviceId, version } : undefined;
}

export const simplePollingAdapter: DeviceAdapter = (app, services, options) => {
  async function context(request: FastifyRequest, reply: FastifyReply) {
    const device = identify(request);
    if (!device) {
      request.log.info(
        { address: request.ip },
        'simple polling: request without a valid _br_mac_ / _br_fwv_',
      );
      text(reply, 401, 'Unauthorized');
      return undefined;
    }
    const product = await productOfFamily(services.products, FAMILY);
    if (!product) {
      text(reply, 404, 'Not Found');
      return undefined;
    }
    const check = {
      product: product.name,
      deviceId: device.deviceId,
      protocol: FAMILY,
      address: request.ip,
      userAgent: request.headers['user-agent'],
      artifactNames: ARTIFACTS,
    };
    return { ...device, product, check };
  }

  // The version the device should run, as the seed's version.txt file: the string and a newline.
  app.get('/version.txt', async (request, reply) => {
    const ctx = await context(request, reply);
    if (!ctx) return reply;
    const decision = await services.updates.check({ ...ctx.check, report: { version: ctx.version } });
    // A deployment's "not now" / "not targeted": the version to run is the one the device runs.
    if (decision.kind === 'none' && (decision.reason === 'not-now' || decision.reason === 'not-targeted')) {
      return text(reply, 200, `${ctx.version}\n`);
    }
    if (!decision.release) return text(reply, 404, 'Firmware version not found.');
    return text(reply, 200, `${deviceVersion(decision.release)}\n`);
  });

  /**
   * The seed serves `firmware_<_br_fwv_>.bin`, so devices put the *target* version (read from version.txt) in
   * `_br_fwv_`; and it answers 204 when that is the version the device already reported. Updraft serves the
   * release the device should run, which covers both styles of device (docs/protocols/http-devices.md):
   * - `_br_fwv_` names neither the version the device last reported nor a published release → 404;
   * - the device already runs the release it should run → 204;
   * - otherwise → 200 and that release.
   * The version recorded is the one reported to /version.txt: a target named here is not what the device runs.
   */
  app.get('/firmware.bin', async (request, reply) => {
    const ctx = await context(request, reply);
    if (!ctx) return reply;
    // Reading the record flushes pending check-ins, so a version.txt poll just before counts.
    const known = await services.devices.get(ctx.deviceId).catch((err: unknown) => {
      if (isDomainError(err, 'DEVICE_NOT_FOUND')) return undefined;
      throw err;
    });
    const running = known?.version ?? undefined;
    if (ctx.version !== running) {
      const named = await services.releases.findPublished(ctx.product.name, ctx.version);
      if (!named) return text(reply, 404, 'Firmware version not found.');
    }
    const decision = await services.updates.check({ ...ctx.check, report: { version: running } });
    if (decision.kind === 'none') {
      return decision.reason === 'up-to-date' ||
        decision.reason === 'same-image' ||
        decision.reason === 'not-now' ||
        decision.reason === 'not-targeted'
        ? reply.code(204).send()
        : text(reply, 404, 'Firmware version not found.');
    }
    await serveArtifact(request, reply, services, options, {
      deviceId: ctx.deviceId,
      release: decision.release,
      artifact: decision.artifact,
    });
  });
};
