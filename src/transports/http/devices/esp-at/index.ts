import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DeviceAdapter } from '../../device-adapters.js';
import type { Product } from '../../../../core/catalog/types.js';
import type { TokenRecord } from '../../../../core/tokens/types.js';
import { isValidName } from '../../../../core/names.js';
import { deviceVersion, first, productOfFamily, serveArtifact } from '../serve-artifact.js';
import { tokenOf, versionListBody, versionQueryBody, writeWhole } from './wire.js';

type RomRequest = FastifyRequest<{ Params: { prefix: string }; Querystring: Record<string, unknown> }>;

/** `404: Not Found`-style plain text, as the aiohttp seed answers (the client never reads it). */
function fail(reply: FastifyReply, status: number, message: string): void {
  reply.hijack();
  writeWhole(reply.raw, status, 'text/plain; charset=utf-8', `${status}: ${message}`);
}

/** A version directory name: no path separator and no `..` (the seed read any file through them). */
const validVersion = (v: string) =>
  v.length >= 1 && v.length <= 64 && !/[/\\]/.test(v) && !v.includes('..') && [...v].every((c) => c >= ' ');

/**
 * ESP-AT `AT+CIUPDATE` / `AT+CIPFWVER` (../shared/specs/device-protocols.md §3, seeds.md §3):
 * - `GET /<any>/device/rom/?is_format_simple=true` → `{"rom_version": "<v>", "status": 200}`;
 * - `GET /<any>/device/rom/?action=download_rom&version=<v>&filename=<name>.bin` → the artifact `<name>.bin` of
 *   release `<v>`;
 * - `GET /<any>/device/rom` → the version list.
 * The device identifies only by its token (`Authorization: token <40 hex>`): the token names the device, and
 * its product limit (or the path's first segment, or the one `esp-at` product) names the product.
 */
export const espAtAdapter: DeviceAdapter = (app, services, options) => {
  async function authenticate(request: RomRequest, reply: FastifyReply) {
    const record = await services.tokens.authenticateDevice(tokenOf(request.headers.authorization));
    if (!record) {
      fail(reply, 403, 'Forbidden');
      return undefined;
    }
    return record;
  }

  async function productFor(record: TokenRecord, prefix: string): Promise<Product | undefined> {
    if (record.product) return services.products.find(record.product);
    const named = isValidName(prefix) ? await services.products.find(prefix) : undefined;
    return named ?? productOfFamily(services.products, 'esp-at');
  }

  const noProduct = (reply: FastifyReply) =>
    fail(reply, 404, 'no ESP-AT product: limit the token to a product, or keep exactly one esp-at product');

  const seen = (request: FastifyRequest, deviceId: string, product: string) => ({
    deviceId,
    product,
    protocol: 'esp-at',
    address: request.ip,
    userAgent: request.headers['user-agent'],
  });

  async function rom(request: RomRequest, reply: FastifyReply): Promise<void> {
    const record = await authenticate(request, reply);
    if (!record) return;
    const action = first(request.query.action);
    const simple = first(request.query.is_format_simple);
    const version = first(request.query.version);
    const filename = first(request.query.filename);
    if (action === undefined && simple !== 'true') {
      return fail(reply, 400, 'expected action=download_rom or is_format_simple=true');
    }
    if (action !== undefined) {
      if (action !== 'download_rom') return fail(reply, 400, 'action must be download_rom');
      if (version === undefined || !validVersion(version)) {
        return fail(reply, 400, 'version is missing, or has a path separator, ".." or a control character');
      }
      if (filename === undefined || !isValidName(filename)) {
        return fail(reply, 400, 'filename is missing, or has a path separator or ".."');
      }
    }
    const product = await productFor(record, request.params.prefix);
    if (!product) return noProduct(reply);
    const deviceId = record.device ?? record.name;

    if (action === undefined) {
      // Step 1: the version this device should run; AT+CIUPDATE then downloads it whatever it runs now.
      const decision = await services.updates.check({
        ...seen(request, deviceId, product.name),
        report: {},
        artifactNames: ['ota.bin'],
      });
      // A deployment's "not now" / "not targeted": AT+CIUPDATE gives up on a 404 and tries again later.
      if (decision.kind === 'none' && (decision.reason === 'not-now' || decision.reason === 'not-targeted')) {
        return fail(reply, 404, 'no update for this device now');
      }
      if (!decision.release) return fail(reply, 404, `${product.name} has no published release`);
      reply.hijack();
      return writeWhole(
        reply.raw,
        200,
        'application/json',
        versionQueryBody(deviceVersion(decision.release)),
      );
    }

    const release = await services.releases.findPublished(product.name, version as string);
    const artifact = release?.artifacts.find((a) => a.name === filename);
    if (!release || !artifact) return fail(reply, 404, 'Not Found');
    // The device asks for an exact release: what it is served is what it was offered.
    services.devices.checkIn({ ...seen(request, deviceId, product.name), offered: release.version });
    await serveArtifact(request, reply, services, options, {
      deviceId,
      release,
      artifact,
      headers: { 'Content-Disposition': `attachment; filename="${artifact.name}"`, 'x-MD5': artifact.md5 },
    });
  }

  async function list(request: RomRequest, reply: FastifyReply): Promise<void> {
    const record = await authenticate(request, reply);
    if (!record) return;
    const product = await productFor(record, request.params.prefix);
    if (!product) return noProduct(reply);
    services.devices.checkIn(seen(request, record.device ?? record.name, product.name));
    const versions = (await services.releases.listPublished(product.name)).map(deviceVersion);
    reply.hijack();
    writeWhole(reply.raw, 200, 'application/json', versionListBody(versions));
  }

  app.get('/:prefix/device/rom/*', rom);
  app.get('/:prefix/device/rom', list);
};
