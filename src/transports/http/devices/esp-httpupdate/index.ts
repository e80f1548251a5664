import type { FastifyReply } from 'fastify';
import type { DeviceAdapter } from '../../device-adapters.js';
import { isValidName } from '../../../../core/names.js';
import { deviceVersion, serveArtifact } from '../serve-artifact.js';
import { ARTIFACT_NAMES, parseEspRequest } from './request.js';
import { createBasicAuth, requiresBasicAuth } from './basic-auth.js';

/**
 * Paths other parts of the server own (management API, dashboard, probes, the other device families, the
 * RIOT seed's endpoints). Their specific routes win in the router anyway; this list only keeps the catch-all
 * from answering 400 for a mistyped one of them, which gets the ordinary 404 instead.
 */
const RESERVED =
  /^\/(?:$|api(?:\/|$)|assets(?:\/|$)|healthz$|readyz$|version\.txt$|firmware\.bin$|publish$|notify|remove$|coap\/|[^/]+\/device\/rom)/;

function text(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=utf-8').send(`${message}\n`);
}

/** `/firmware`, `/ota/firmware`, `/firmware/` → `firmware` (the sglahn seed's "flavor", query excluded). */
function productOf(path: string): string | undefined {
  let end = path.length;
  while (end > 0 && path[end - 1] === '/') end--;
  if (end === 0) return undefined;
  const segment = path.slice(path.lastIndexOf('/', end - 1) + 1, end);
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * ESP8266 / ESP32 Arduino httpUpdate: `GET /<product>` with `x-ESP8266-*` / `x-ESP32-*` headers
 * (../shared/specs/device-protocols.md §1, §2; seeds.md §2). 200 + image + `x-MD5` when there is an update,
 * 304 when there is none (the only "no update" both cores know), 200 + `x-version` in version mode.
 */
export const espHttpUpdateAdapter: DeviceAdapter = (app, services, options) => {
  const checkBasicAuth = createBasicAuth();

  app.get('/*', async (request, reply) => {
    const query = request.url.indexOf('?');
    const path = query < 0 ? request.url : request.url.slice(0, query);
    if (RESERVED.test(path)) return reply.callNotFound();
    const esp = parseEspRequest(request.headers);
    if (esp === undefined) {
      return text(reply, 400, 'not an ESP httpUpdate request: no x-ESP8266-* or x-ESP32-* header');
    }
    if ('error' in esp) return text(reply, 400, esp.error);

    const name = productOf(path);
    const product = name && isValidName(name) ? await services.products.find(name) : undefined;
    if (!product) return text(reply, 404, `no product "${(name ?? '').slice(0, 128)}"`);

    const auth = requiresBasicAuth(product)
      ? await checkBasicAuth(product, request.headers.authorization, request.ip)
      : 'ok';
    if (typeof auth === 'object') {
      // Too many failed attempts from this source or for this product: refused before any scrypt.
      reply.header('Retry-After', String(auth.limited));
      return text(reply, 429, 'too many failed attempts; try again later');
    }
    if (auth === 'missing') {
      reply.header('WWW-Authenticate', `Basic realm="${product.name}", charset="UTF-8"`);
      return text(reply, 401, 'credentials required');
    }
    if (auth !== 'ok') {
      if (auth === 'misconfigured') {
        request.log.error({ product: product.name }, 'settings.httpBasicAuth is malformed; refusing devices');
      }
      return text(reply, 403, 'forbidden');
    }

    const decision = await services.updates.check({
      product: product.name,
      deviceId: esp.deviceId,
      protocol: `${esp.family}-httpupdate`,
      address: request.ip,
      userAgent: request.headers['user-agent'],
      attributes: esp.attributes,
      report: esp.report,
      artifactNames: ARTIFACT_NAMES[esp.mode],
    });

    if (esp.mode === 'version') {
      // getAvailableVersion (ESP8266 core ≥ 3.1): 200 + x-version, body ignored; 304 is not understood there.
      // A deployment's "not now" / "not targeted": the version the device runs is the one it should run.
      if (decision.kind === 'none' && (decision.reason === 'not-now' || decision.reason === 'not-targeted')) {
        if (!esp.report.version) return reply.code(304).send();
        reply.header('x-version', esp.report.version);
        return reply.code(200).header('Content-Length', 0).send();
      }
      const release = decision.release;
      if (!release) return text(reply, 404, `${product.name} has no published release`);
      reply.header('x-version', deviceVersion(release));
      if (decision.artifact) reply.header('x-MD5', decision.artifact.md5);
      return reply.code(200).header('Content-Length', 0).send();
    }

    if (decision.kind === 'none') {
      if (decision.reason === 'insufficient-space') {
        request.log.warn(
          { device: esp.deviceId, size: decision.artifact?.size, freeSpace: esp.report.freeSpace },
          'ESP httpUpdate: image larger than the free space the device reports; not offered',
        );
      }
      return reply.code(304).send();
    }

    const { release, artifact } = decision;
    const headers: Record<string, string> = {
      'Content-Disposition': `attachment; filename="${artifact.name}"`,
      // Both cores compare x-MD5 with the image; arduino-esp32 before 3.x compared case-sensitively: lowercase.
      'x-MD5': artifact.md5,
      'x-version': deviceVersion(release),
    };
    if (esp.family === 'esp32') headers['x-SHA256'] = artifact.sha256;
    await serveArtifact(request, reply, services, options, {
      deviceId: esp.deviceId,
      release,
      artifact,
      headers,
    });
  });
};
