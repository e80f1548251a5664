import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DeviceAdapter } from '../../device-adapters.js';
import type { Product } from '../../../../core/catalog/types.js';
import { deviceTokenAllows } from '../../../../core/tokens/token-service.js';
import { isValidName } from '../../../../core/names.js';
import { first, serveArtifact } from '../serve-artifact.js';
import { CONTROLLER_ID } from '../ddi/auth.js';
import { createSwupdateDeviceCache } from './device-cache.js';
import { ddiSettings } from '../../../../core/catalog/ddi-settings.js';
import type { Outcome } from '../ddi/outcome.js';

type GeneralRequest = FastifyRequest<{
  Params: { product: string; version?: string; name?: string };
  Querystring: Record<string, unknown>;
  Body: unknown;
}>;

/** The attribute naming a release whose installation failed on the device: not offered again (no retry loop). */
const FAILED = 'swupdate-failed';
/** Query parameters with a meaning of their own; every other identify parameter becomes a device attribute. */
const RESERVED = new Set(['id', 'version']);

function text(reply: FastifyReply, status: number, body: string, headers: Record<string, string> = {}) {
  return reply.code(status).headers(headers).type('text/plain; charset=utf-8').send(body);
}

/** `X-Updraft-Token: <t>`, or `Authorization: Bearer|TargetToken|GatewayToken <t>`. */
function tokenOf(request: FastifyRequest): string | undefined {
  const header = first(request.headers['x-updraft-token']);
  if (header) return header.trim();
  const m = /^(?:Bearer|TargetToken|GatewayToken)\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return m?.[1];
}

/**
 * SWUpdate's suricatta "general HTTP server" protocol (suricatta/server_general.c, docs/protocols/ddi.md):
 * - `GET /swupdate/<product>?id=<device>&version=<running>&<identify…>` → `302` + `Location` (the image), `404`
 *   (no update), or `503` + `Retry-After` (a deployment says "not now");
 * - `GET|HEAD /swupdate/<product>/artifacts/<version>/<name>?id=<device>`: the image (Range, ETag);
 * - `PUT /swupdate/<product>/log?id=<device>`: the CSV event lines (`started`, `success`, `fail`).
 * The device id is the `id` parameter (SWUpdate's `identify` setting). The token comes in a header set with
 * `-a X-Updraft-Token <token>` (the suricatta argument string is split on spaces, so `Authorization: Bearer …`
 * cannot be passed there).
 */
export const swupdateGeneralAdapter: DeviceAdapter = (app, services, options) => {
  const cache = createSwupdateDeviceCache(services.devices);

  /** The product and device of a request, or an answer already sent. */
  async function who(
    request: GeneralRequest,
    reply: FastifyReply,
  ): Promise<{ product: Product; deviceId: string } | undefined> {
    const deviceId = first(request.query.id);
    if (!deviceId || !CONTROLLER_ID.test(deviceId)) {
      await text(reply, 400, 'the device id parameter "id" is missing or not 1-128 of [A-Za-z0-9._:@-]');
      return undefined;
    }
    const product = isValidName(request.params.product)
      ? await services.products.find(request.params.product)
      : undefined;
    if (!product) {
      await text(reply, 404, `no product "${request.params.product}"`);
      return undefined;
    }
    const token = tokenOf(request);
    if (token || !ddiSettings(product).anonymous) {
      const record = token ? await services.tokens.authenticateDevice(token) : undefined;
      if (!record || !deviceTokenAllows(record, { product: product.name, device: deviceId })) {
        await text(reply, 401, 'a device token for this product and device is required (X-Updraft-Token)');
        return undefined;
      }
    }
    const owner = cache.productOf(deviceId, await cache.get(deviceId));
    if (owner && owner !== product.name) {
      await text(reply, 403, `device "${deviceId}" belongs to another product`);
      return undefined;
    }
    if (!owner) cache.claim(deviceId, product.name);
    return { product, deviceId };
  }

  async function artifactNames(product: Product): Promise<string[]> {
    const configured = ddiSettings(product).artifacts;
    if (configured.length > 0) return configured;
    const names = new Set<string>();
    for (const r of await services.releases.listPublished(product.name)) {
      for (const a of r.artifacts) if (a.name.endsWith('.swu')) names.add(a.name);
    }
    return [...names];
  }

  async function poll(request: GeneralRequest, reply: FastifyReply) {
    const id = await who(request, reply);
    if (!id) return;
    const attributes: Record<string, string> = {};
    for (const [k, v] of Object.entries(request.query)) {
      const value = first(v);
      if (!RESERVED.has(k) && value !== undefined && /^[\w.:-]{1,64}$/.test(k) && value.length <= 256) {
        attributes[k] = value;
      }
    }
    const device = await cache.get(id.deviceId);
    const decision = await services.updates.check({
      product: id.product.name,
      deviceId: id.deviceId,
      protocol: 'swupdate-general',
      address: request.ip,
      userAgent: request.headers['user-agent'],
      attributes,
      report: { version: first(request.query.version) ?? device?.version ?? undefined },
      artifactNames: await artifactNames(id.product),
    });
    if (decision.kind === 'update' && device?.attributes[FAILED] !== decision.release.version) {
      const host = request.headers.host ?? request.hostname;
      const location =
        `${request.protocol}://${host}/swupdate/${encodeURIComponent(id.product.name)}/artifacts/` +
        `${encodeURIComponent(decision.release.version)}/${encodeURIComponent(decision.artifact.name)}` +
        `?id=${encodeURIComponent(id.deviceId)}`;
      return reply.code(302).header('Location', location).header('Content-Length', '0').send();
    }
    const retry = decision.kind === 'none' ? retryAfter(id.product, decision) : undefined;
    if (retry !== undefined) {
      // Written raw: fastify lower-cases header names, and SWUpdate looks `Retry-After` up case-sensitively
      // (server_general.c `dict_get_value(…, "Retry-After")`).
      const body = 'not now';
      reply.hijack();
      reply.raw.writeHead(503, {
        'Retry-After': String(Math.max(1, Math.round(retry))),
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
      });
      reply.raw.end(body);
      return;
    }
    return text(reply, 404, 'no update');
  }

  /** `not-now` (a deployment's wave, pace, window or download cap): poll again after the hint. */
  function retryAfter(
    product: Product,
    decision: { reason: string; retryAfterSeconds?: number },
  ): number | undefined {
    if (decision.reason !== 'not-now') return undefined;
    return decision.retryAfterSeconds ?? ddiSettings(product).pollingSeconds;
  }

  async function artifact(request: GeneralRequest, reply: FastifyReply) {
    const id = await who(request, reply);
    if (!id) return;
    const release = await services.releases.findPublished(id.product.name, request.params.version ?? '');
    const found = release?.artifacts.find((a) => a.name === request.params.name);
    if (!release || !found) return text(reply, 404, 'no such image');
    services.devices.checkIn({
      deviceId: id.deviceId,
      product: id.product.name,
      protocol: 'swupdate-general',
      offered: release.version,
    });
    return serveArtifact(request, reply, services, options, {
      deviceId: id.deviceId,
      release,
      artifact: found,
      headers: { 'Content-Disposition': `attachment; filename="${found.name}"` },
    });
  }

  /** One CSV line per event; the event is the field that names one (the line's layout is the device's choice). */
  function eventOf(line: string): 'started' | 'success' | 'fail' | undefined {
    for (const field of line.split(',').map((f) => f.trim().toLowerCase())) {
      if (field === 'started' || field === 'success' || field === 'fail') return field;
    }
    return undefined;
  }

  async function log(request: GeneralRequest, reply: FastifyReply) {
    const id = await who(request, reply);
    if (!id) return;
    const body = typeof request.body === 'string' ? request.body : '';
    const lines = body.split(/\r?\n/).filter((l) => l.trim() !== '');
    if (lines.length === 0 || lines.length > 100) return text(reply, 400, 'expected 1-100 CSV event lines');
    // The line does not name the release: it is the one this device was last sent to.
    const device = await services.devices.get(id.deviceId).catch(() => undefined);
    const version = device?.lastOffered;
    if (!version) return text(reply, 409, 'no image was offered to this device');
    for (const line of lines) {
      const event = eventOf(line);
      const outcome: Outcome | undefined =
        event === 'started'
          ? 'downloading'
          : event === 'success'
            ? 'succeeded'
            : event === 'fail'
              ? 'failed'
              : undefined;
      const detail = line.length > 500 ? `${line.slice(0, 497)}...` : line;
      if (!outcome) {
        services.devices.record(id.deviceId, 'feedback', version, `log: ${detail}`);
        continue;
      }
      await services.updates.reportOutcome({
        deviceId: id.deviceId,
        product: id.product.name,
        version,
        outcome,
        detail,
      });
      if (outcome === 'succeeded' || outcome === 'failed') {
        const attributes = { [FAILED]: outcome === 'failed' ? version : '' };
        services.devices.checkIn({
          deviceId: id.deviceId,
          product: id.product.name,
          protocol: 'swupdate-general',
          attributes,
          ...(outcome === 'succeeded' ? { version } : {}),
        });
        cache.patch(id.deviceId, { attributes, ...(outcome === 'succeeded' ? { version } : {}) });
      }
    }
    return reply.code(200).send();
  }

  app.register(async (scope: FastifyInstance) => {
    // SWUpdate sends `Content-Type: application/text`.
    scope.addContentTypeParser(
      ['application/text', 'text/csv'],
      { parseAs: 'string', bodyLimit: 64 * 1024 },
      (_req, body, done) => done(null, body),
    );
    scope.get('/swupdate/:product', poll);
    scope.get('/swupdate/:product/artifacts/:version/:name', artifact);
    scope.put('/swupdate/:product/log', log);
  });
};
