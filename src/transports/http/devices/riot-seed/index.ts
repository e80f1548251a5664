import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart, { type Multipart } from '@fastify/multipart';
import type { Services } from '../../../../core/services.js';
import { DomainError } from '../../../../core/errors.js';
import { notifyDevices, type NotifyTarget, type SuitDevices } from '../../../../core/riot-publish/notify.js';
import { createPublishIds, type IncomingFile } from '../../../../core/riot-publish/publish-ids.js';
import { publishPath } from '../../../../core/riot-publish/names.js';
import { auditedAs, requireAdmin } from '../../admin-auth.js';
import type { DeviceAdapter, RiotSeedOptions } from '../../device-adapters.js';
import { discardRestOfBody } from '../../api/receive-release.js';
import { deviceList, one, readFields } from './fields.js';

const DEFAULTS: Omit<RiotSeedOptions, 'devices'> = {
  auth: true,
  coapPublicUrl: '',
  concurrency: 16,
  timeoutMs: 20_000,
  maxUploadBytes: 256 * 1024 * 1024,
};

function coapRoot(publicUrl: string): string {
  if (!publicUrl) {
    throw new DomainError(
      'INVALID_INPUT',
      'the server has no CoAP public URL, and devices cannot reach a loopback one: start it with ' +
        '--coap-public-url coap://[<address>] (env UPDRAFT_COAP_PUBLIC_URL)',
    );
  }
  return publicUrl.replace(/\/+$/, '');
}

/**
 * Reads `publish_id` and any other fields up to the first file, then hands the files on one at a time, each
 * streamed into the blob store before the next part is read. The seed's clients send `publish_id` first (the
 * RIOT makefiles' `curl -F publish_id=... -F <file>=@...`, `requests` puts data fields before files).
 */
async function receive(request: FastifyRequest, maxUploadBytes: number) {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxUploadBytes + 1024 * 1024) {
    throw new DomainError('UPLOAD_TOO_LARGE', `upload exceeds the limit of ${maxUploadBytes} bytes`);
  }
  const stream = request.parts({ limits: { fileSize: maxUploadBytes + 1, fieldSize: 100_000 } });
  const parts = stream[Symbol.asyncIterator]();
  const fields = new Map<string, string>();
  let first: Multipart | undefined;
  for (let next = await parts.next(); !next.done; next = await parts.next()) {
    if (next.value.type === 'file') {
      first = next.value;
      break;
    }
    if (!fields.has(next.value.fieldname)) fields.set(next.value.fieldname, String(next.value.value));
  }
  async function* files(): AsyncGenerator<IncomingFile> {
    for (let part = first; part !== undefined;) {
      if (part.type === 'file') {
        yield { field: part.fieldname, source: part.file, contentType: part.mimetype };
        if (part.file.truncated) {
          throw new DomainError('UPLOAD_TOO_LARGE', `upload exceeds the limit of ${maxUploadBytes} bytes`);
        }
      }
      const next = await parts.next();
      part = next.done ? undefined : next.value;
    }
  }
  return { publishId: fields.get('publish_id'), files: files() };
}

type Seed = Omit<RiotSeedOptions, 'devices'> & { devices?: SuitDevices };

function registerRoutes(app: FastifyInstance, services: Services, seed: Seed) {
  const publishIds = createPublishIds(services);

  app.post('/publish', async (request) => {
    if (!request.isMultipart()) {
      throw new DomainError(
        'INVALID_INPUT',
        'POST /publish takes multipart/form-data: publish_id, then files',
      );
    }
    try {
      const { publishId, files } = await receive(request, seed.maxUploadBytes);
      return await publishIds.publish(publishId, files);
    } catch (err) {
      discardRestOfBody(request);
      throw err;
    }
  });

  async function notify(request: FastifyRequest, v4: boolean) {
    const fields = await readFields(request);
    const publishId = one(fields, 'publish_id');
    publishPath(publishId);
    // The seed's /notify ignores a version field (seeds.md §1.2); /notifyv4 needs one.
    const version = v4 ? one(fields, 'version')?.trim() : undefined;
    if (v4 && !version) {
      throw new DomainError('INVALID_INPUT', 'the version field is required (a build version, or latest)');
    }
    const root = coapRoot(seed.coapPublicUrl);
    const devices = deviceList(fields);
    const port = seed.devices;
    if (!port) throw new Error('the RIOT seed adapter was built without a CoAP client');
    const unreachable = devices.find((d) => port.address(d) === undefined);
    if (unreachable !== undefined) {
      throw new DomainError('INVALID_INPUT', `not a device address: "${unreachable.slice(0, 100)}"`);
    }
    const { path, choice } = await publishIds.manifest(publishId, version);
    const url = (file: string | undefined) => (file === undefined ? undefined : `${root}/${path}/${file}`);
    const target: NotifyTarget =
      choice.kind === 'single'
        ? { kind: 'single', manifestUrl: `${root}/${path}/${choice.file}` }
        : { kind: 'per-slot', manifestUrls: [url(choice.files[0]), url(choice.files[1])] };
    const results = await notifyDevices(devices, (device) => port.notify(device, target), seed);
    for (const r of results) services.metrics.notify(r.status);
    request.log.info(
      { publishId: path, devices: results.length, ok: results.filter((r) => r.status === 'ok').length },
      'RIOT devices notified',
    );
    return { results };
  }

  app.post('/notify', (request) => notify(request, false));
  app.post('/notifyv4', (request) => notify(request, true));

  app.post('/remove', async (request) => {
    const fields = await readFields(request);
    return publishIds.remove(one(fields, 'publish_id'), one(fields, 'version')?.trim());
  });

  // The RIOT build asks this for SUIT_COAP_ROOT (seeds.md §1.6); the seed answered with its loopback default.
  app.get<{ Params: { '*': string } }>('/coap/url/*', async (request, reply) => {
    const root = coapRoot(seed.coapPublicUrl);
    reply.type('text/plain; charset=utf-8');
    return `${root}/${publishPath(request.params['*'])}`;
  });
}

/**
 * The RIOT seed server's HTTP endpoints (aabadie/ota-server `server.py`, seeds.md §1.2, §1.4), with the
 * differences docs/protocols/riot-seed.md lists: the admin token unless turned off, validated names, JSON
 * answers (per-device notify results), bounded concurrent notify.
 */
export const riotSeedAdapter: DeviceAdapter = (app, services, options) => {
  const seed: Seed = { ...DEFAULTS, ...options.riotSeed };
  void app.register(async (scope) => {
    if (seed.auth) scope.addHook('onRequest', requireAdmin(services.tokens));
    // The seed's clients send no token when auth is off: their publishes are recorded as `riot-seed`.
    scope.addHook('preHandler', auditedAs({ id: null, name: 'riot-seed' }));
    await scope.register(multipart, { limits: { files: 64, fields: 200, parts: 300 } });
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 1 << 20 },
      (_request, body, done) => done(null, new URLSearchParams(body as string)),
    );
    registerRoutes(scope, services, seed);
  });
};
