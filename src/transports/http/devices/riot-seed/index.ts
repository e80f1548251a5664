import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart, { type Multipart } from '@fastify/multipart';
import type { Services } from '../../../../core/services.js';
import { DomainError } from '../../../../core/errors.js';
import {
  createNotifyBudget,
  notifyDevices,
  type NotifyBudget,
  type NotifyTarget,
  type SuitDevices,
} from '../../../../core/riot-publish/notify.js';
import { createPublishIds, type IncomingFile } from '../../../../core/riot-publish/publish-ids.js';
import { publishPath } from '../../../../core/riot-publish/names.js';
import { auditContextOf, auditedAs, bearerToken, requireAdmin } from '../../admin-auth.js';
import type { DeviceAdapter, RiotSeedOptions } from '../../device-adapters.js';
import { discardRestOfBody, endedEarly, untilAborted } from '../../api/receive-release.js';
import { deviceList, one, readFields } from './fields.js';
import { createTargetPolicy } from './targets.js';
import { createSpool } from './spool.js';
import { toHttpError } from '../../error-status.js';

const DEFAULTS: Omit<RiotSeedOptions, 'devices'> = {
  auth: true,
  coapPublicUrl: '',
  concurrency: 16,
  timeoutMs: 20_000,
  maxUploadBytes: 256 * 1024 * 1024,
  maxDevices: 100,
  maxQueued: 1000,
  allow: [],
  ports: [],
};

/**
 * The CoAP root devices fetch from: `--coap-public-url`, else the host the HTTP client used (`Host`, as the
 * RIOT makefile's `SUIT_OTA_SERVER_URL=http://$(SUIT_COAP_SERVER):8080` names the server) with the CoAP port,
 * which is what the seed built from its `--coap-host`/`--coap-port` options.
 */
function coapRoot(seed: Seed, request: FastifyRequest): string {
  if (seed.coapPublicUrl) return seed.coapPublicUrl.replace(/\/+$/, '');
  const port = seed.coapPort?.();
  const host = hostOnly(request.headers.host);
  if (port === undefined || host === undefined) {
    throw new DomainError(
      'INVALID_INPUT',
      'no CoAP URL to give devices: the CoAP endpoint is off or the request has no Host header; start the ' +
        'server with --coap-public-url coap://[<address>] (env UPDRAFT_COAP_PUBLIC_URL)',
    );
  }
  return `coap://${host}${port === 5683 ? '' : `:${port}`}`;
}

/** `host`, `[v6]` or `a.b.c.d` from a Host header, without its port; undefined when it is not one. */
export function hostOnly(header: string | undefined): string | undefined {
  const value = header?.trim() ?? '';
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/.exec(value);
  return m?.[1];
}

/**
 * Reads `publish_id` and any other fields up to the first file, then hands the files on one at a time, each
 * streamed into the blob store before the next part is read. The seed's clients send `publish_id` first (the
 * RIOT makefiles' `curl -F publish_id=... -F <file>=@...`, `requests` puts data fields before files), but the
 * seed (Tornado, which parses the whole body first) accepts any order: file parts that come before
 * `publish_id` are spooled to a temporary folder, bounded by the upload limit, and handed on once it is known.
 * `cleanup` removes the spool; call it whatever happened.
 */
async function receive(request: FastifyRequest, maxUploadBytes: number) {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxUploadBytes + 1024 * 1024) {
    throw new DomainError('UPLOAD_TOO_LARGE', `upload exceeds the limit of ${maxUploadBytes} bytes`);
  }
  const stream = request.parts({ limits: { fileSize: maxUploadBytes + 1, fieldSize: 100_000 } });
  const iterator = stream[Symbol.asyncIterator]();
  const signal = request.bodySignal;
  // A body that stops arriving (or lacks its closing boundary) would leave `next()` pending forever.
  const parts = { next: () => untilAborted(iterator.next(), signal) };
  const fields = new Map<string, string>();
  const spool = createSpool(maxUploadBytes);
  let first: Multipart | undefined;
  try {
    for (let next = await parts.next(); !next.done; next = await parts.next()) {
      if (next.value.type === 'file') {
        if (fields.has('publish_id')) {
          first = next.value;
          break;
        }
        await spool.add(next.value);
        continue;
      }
      if (!fields.has(next.value.fieldname)) fields.set(next.value.fieldname, String(next.value.value));
    }
  } catch (err) {
    await spool.cleanup();
    throw err;
  }
  async function* files(): AsyncGenerator<IncomingFile> {
    yield* spool.files();
    for (let part = first; part !== undefined;) {
      if (part.type === 'file') {
        yield { field: part.fieldname, source: part.file, contentType: part.mimetype, signal };
        if (part.file.truncated) {
          throw new DomainError('UPLOAD_TOO_LARGE', `upload exceeds the limit of ${maxUploadBytes} bytes`);
        }
      }
      const next = await parts.next();
      part = next.done ? undefined : next.value;
    }
    request.bodyRead();
  }
  return { publishId: fields.get('publish_id'), files: files(), cleanup: spool.cleanup };
}

type Seed = Omit<RiotSeedOptions, 'devices'> & { devices?: SuitDevices };

function registerRoutes(app: FastifyInstance, services: Services, seed: Seed, budget: NotifyBudget) {
  const publishIds = createPublishIds(services);
  const targets = createTargetPolicy(seed.allow ?? [], seed.ports ?? []);

  app.post('/publish', async (request) => {
    if (!request.isMultipart()) {
      throw new DomainError(
        'INVALID_INPUT',
        'POST /publish takes multipart/form-data: publish_id, then files',
      );
    }
    let cleanup: (() => Promise<void>) | undefined;
    try {
      const received = await receive(request, seed.maxUploadBytes);
      cleanup = received.cleanup;
      return await publishIds.publish(auditContextOf(request), received.publishId, received.files);
    } catch (err) {
      discardRestOfBody(request);
      if (request.bodySignal.aborted) throw request.bodySignal.reason;
      throw endedEarly(err) ?? err;
    } finally {
      await cleanup?.();
    }
  });

  async function notify(request: FastifyRequest, reply: FastifyReply, v4: boolean) {
    const fields = await readFields(request);
    const publishId = one(fields, 'publish_id');
    publishPath(publishId);
    // The seed's /notify ignores a version field (seeds.md §1.2); /notifyv4 needs one.
    const version = v4 ? one(fields, 'version')?.trim() : undefined;
    if (v4 && !version) {
      throw new DomainError('INVALID_INPUT', 'the version field is required (a build version, or latest)');
    }
    const root = coapRoot(seed, request);
    const devices = deviceList(fields, seed.maxDevices);
    const port = seed.devices;
    if (!port) throw new Error('the RIOT seed adapter was built without a CoAP client');
    const unreachable = devices.find((d) => port.address(d) === undefined);
    if (unreachable !== undefined) {
      throw new DomainError('INVALID_INPUT', `not a device address: "${unreachable.slice(0, 100)}"`);
    }
    targets.check(devices.map((device) => ({ device, url: port.address(device) as string })));
    const { path, choice } = await publishIds.manifest(publishId, version);
    const url = (file: string | undefined) => (file === undefined ? undefined : `${root}/${path}/${file}`);
    const target: NotifyTarget =
      choice.kind === 'single'
        ? { kind: 'single', manifestUrl: `${root}/${path}/${choice.file}` }
        : { kind: 'per-slot', manifestUrls: [url(choice.files[0]), url(choice.files[1])] };
    if (!budget.reserve(devices.length)) {
      throw new DomainError('NOT_READY', 'too many devices are waiting to be notified; try again later');
    }
    // A caller that goes away cancels what is left of its notify: nothing more is sent for it.
    const cancel = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) cancel.abort();
    };
    reply.raw.once('close', onClose);
    let results;
    try {
      results = await notifyDevices(devices, (device, signal) => port.notify(device, target, signal), {
        timeoutMs: seed.timeoutMs,
        budget,
        cancel: cancel.signal,
      });
    } finally {
      budget.release(devices.length);
      reply.raw.off('close', onClose);
    }
    for (const r of results) services.metrics.notify(r.status);
    request.log.info(
      { publishId: path, devices: results.length, ok: results.filter((r) => r.status === 'ok').length },
      'RIOT devices notified',
    );
    return { results };
  }

  app.post('/notify', (request, reply) => notify(request, reply, false));
  app.post('/notifyv4', (request, reply) => notify(request, reply, true));

  app.post('/remove', async (request) => {
    const fields = await readFields(request);
    return publishIds.remove(
      auditContextOf(request),
      one(fields, 'publish_id'),
      one(fields, 'version')?.trim(),
    );
  });

  /**
   * The RIOT build asks this for SUIT_COAP_ROOT: `$(shell curl -X GET …/coap/url/$(SUIT_PUBLISH_ID))`, without
   * `-f` (seeds.md §1.6), so whatever the body says lands on its command line. Errors are therefore plain text
   * too, and short, never JSON.
   */
  app.get<{ Params: { '*': string } }>('/coap/url/*', async (request, reply) => {
    reply.type('text/plain; charset=utf-8');
    try {
      return `${coapRoot(seed, request)}/${publishPath(request.params['*'])}`;
    } catch (err) {
      const { status, body } = toHttpError(err);
      return reply.code(status).send(`${body.code}: ${body.message}\n`);
    }
  });
}

/**
 * The RIOT seed server's HTTP endpoints (aabadie/ota-server `server.py`, seeds.md §1.2, §1.4), with the
 * differences docs/protocols/riot-seed.md lists: the admin token unless turned off, validated names, JSON
 * answers (per-device notify results), bounded concurrent notify.
 */
export const riotSeedAdapter: DeviceAdapter = (app, services, options) => {
  const seed: Seed = { ...DEFAULTS, ...options.riotSeed };
  // One budget per server, shared by every notify request (RFC 7252 §4.7 asks for bounded outstanding traffic).
  const budget = createNotifyBudget(seed.concurrency, seed.maxQueued ?? 1000);
  void app.register(async (scope) => {
    if (seed.auth) {
      const admin = requireAdmin(services.tokens);
      scope.addHook('onRequest', async (request, reply) => {
        if (!request.url.startsWith('/coap/url/')) return admin(request, reply);
        // Plain text here as well: the RIOT makefile pastes this body into its command line.
        if (!(await services.tokens.verifyAdmin(bearerToken(request.headers.authorization)))) {
          await reply
            .code(401)
            .header('WWW-Authenticate', 'Bearer realm="updraft"')
            .type('text/plain; charset=utf-8')
            .send('UNAUTHORIZED: an admin token is required (Authorization: Bearer <token>)\n');
        }
      });
    }
    // The seed's clients send no token when auth is off: their publishes are recorded as `riot-seed`.
    scope.addHook('preHandler', auditedAs({ id: null, name: 'riot-seed' }));
    await scope.register(multipart, { limits: { files: 64, fields: 200, parts: 300 } });
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 1 << 20 },
      (_request, body, done) => done(null, new URLSearchParams(body as string)),
    );
    registerRoutes(scope, services, seed, budget);
  });
};
