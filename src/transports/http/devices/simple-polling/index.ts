import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DeviceAdapter } from '../../device-adapters.js';
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
   * The seed's own semantics (ota_server/handlers/handler.py, checked by its tests/test_server.py;
   * device-protocols.md §10): `GET /firmware.bin` serves `firmware_<_br_fwv_>.bin`, the version the device
   * names (seed devices read the target from /version.txt and put it here), in this order:
   * 1. no published release of that version → 404 `Firmware version not found.`;
   * 2. the device is known and its recorded version equals `_br_fwv_` → 204 (it already runs it);
   * 3. otherwise → 200 and that release.
   * Nothing is recorded as installed here: the running version is the one reported to /version.txt. The lookup
   * reads pending check-ins without flushing them, so a poll never forces a database write (ADR 0001).
   * The seed read the file at request time, and its test_firmware_bin_with_headers writes firmware_1.0.0.bin and
   * fetches it at once: `freshen` lets the drop folder import it first (at most ~300 ms; one stat when nothing
   * changed). /version.txt, the check-in every device makes, does not wait for it.
   */
  app.get('/firmware.bin', async (request, reply) => {
    const ctx = await context(request, reply);
    if (!ctx) return reply;
    await options.freshen?.(ctx.product.name);
    const release = await services.releases.findPublished(ctx.product.name, ctx.version);
    const artifact = release?.artifacts.find((a) => ARTIFACTS.includes(a.name));
    if (!release || !artifact) return text(reply, 404, 'Firmware version not found.');
    const known = await services.devices.reported(ctx.deviceId);
    if (known && known.version === ctx.version) return reply.code(204).send();
    await serveArtifact(request, reply, services, options, {
      // The seed adds no record for an unknown MAC; downloads are recorded for known devices only.
      deviceId: known ? ctx.deviceId : undefined,
      release,
      artifact,
    });
  });
};
