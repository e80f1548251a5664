import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DeviceAdapter } from '../../device-adapters.js';
import type { Artifact, Release } from '../../../../core/catalog/types.js';
import { serveArtifact } from '../serve-artifact.js';
import { identify, type DdiIdentity } from './auth.js';
import { resolveAction, chunkArtifacts, handlingOf, type ActiveAction } from './actions.js';
import { deploymentJson, artifactJson } from './bodies.js';
import { ATTR, formatRef, isOwnAttribute, type ActionRef } from './device-state.js';
import { createKnownDevices } from './known-devices.js';
import { createTokenLookup } from './token-lookup.js';
import { cacheKeyOf, moduleIdOf } from './ids.js';
import { ddiSettings, formatSleep } from '../../../../core/catalog/ddi-settings.js';
import { feedbackDetail, parseConfigData, parseFeedback, parseLenientJson, type Feedback } from './wire.js';
import type { Outcome } from './outcome.js';
import { createDeploymentLookup } from './deployment-lookup.js';
import { followsRedirects } from './redirect-clients.js';

type Params = {
  tenant: string;
  controllerId: string;
  actionId?: string;
  moduleId?: string;
  fileName?: string;
};
type DdiRequest = FastifyRequest<{ Params: Params; Body: unknown }>;

/**
 * hawkBit answers `application/hal+json` to clients that ask for it; every real client takes plain JSON. Written
 * in one piece with an exact Content-Length (Zephyr's client requires it, §6.4): status line, headers and body
 * leave in one socket write, which matters on the poll path every device hits.
 */
function sendText(request: FastifyRequest, reply: FastifyReply, status: number, text: string) {
  const hal = request.headers.accept?.includes('application/hal+json') ?? false;
  reply.hijack();
  reply.raw.writeHead(status, {
    'Content-Type': hal ? 'application/hal+json' : 'application/json;charset=UTF-8',
    'Content-Length': Buffer.byteLength(text),
  });
  reply.raw.end(text);
}

const sendJson = (request: FastifyRequest, reply: FastifyReply, status: number, body: unknown) =>
  sendText(request, reply, status, JSON.stringify(body));

/** The poll answers without links, one text per sleep (a handful of values), serialised once. */
const idlePollTexts = new Map<number, string>();
function pollText(sleepSeconds: number, links: Record<string, { href: string }> | undefined): string {
  if (links)
    return JSON.stringify({ config: { polling: { sleep: formatSleep(sleepSeconds) } }, _links: links });
  let text = idlePollTexts.get(sleepSeconds);
  if (text === undefined) {
    text = JSON.stringify({ config: { polling: { sleep: formatSleep(sleepSeconds) } } });
    if (idlePollTexts.size >= 1000) idlePollTexts.clear();
    idlePollTexts.set(sleepSeconds, text);
  }
  return text;
}

const fail = (request: FastifyRequest, reply: FastifyReply, status: number, message: string) =>
  sendJson(request, reply, status, { code: status === 410 ? 'GONE' : 'DDI_ERROR', status, message });

/**
 * Eclipse hawkBit's Direct Device Integration API (../shared/specs/device-protocols.md §6, docs/protocols/ddi.md)
 * at `/<tenant>/controller/v1/<controllerId>` on the server root, for SWUpdate's suricatta, rauc-hawkbit-updater
 * and Zephyr's hawkBit client. Every answer comes from the one update decision (`services.updates.check`).
 */
export const ddiAdapter: DeviceAdapter = (app, services, options) => {
  const tenants = options.ddiTenants ?? { default: ['*'] };
  const cache = createKnownDevices(services.devices, services.events);
  const tokens = createTokenLookup(services.tokens, services.events);
  app.addHook('onClose', async () => {
    cache.close();
    tokens.close();
  });
  const deployments = createDeploymentLookup(services);
  const sha1s = new Map<string, Promise<string>>();

  /** Artifacts stored before migration 0003 whose backfill could not run yet: hashed once, on demand. */
  function sha1Of(artifact: Artifact): Promise<string> {
    if (artifact.sha1) return Promise.resolve(artifact.sha1);
    let known = sha1s.get(artifact.sha256);
    if (!known) {
      known = (async () => {
        const hash = createHash('sha1');
        for await (const chunk of await services.releases.openArtifact(artifact))
          hash.update(chunk as Buffer);
        return hash.digest('hex');
      })();
      known.catch(() => sha1s.delete(artifact.sha256));
      if (sha1s.size > 1000) sha1s.clear();
      sha1s.set(artifact.sha256, known);
    }
    return known;
  }

  const baseOf = (request: DdiRequest) => {
    const host = request.headers.host ?? `${request.hostname}`;
    return `${request.protocol}://${host}/${encodeURIComponent(request.params.tenant)}/controller/v1/${encodeURIComponent(request.params.controllerId)}`;
  };

  async function who(request: DdiRequest, reply: FastifyReply): Promise<DdiIdentity | undefined> {
    const result = await identify(
      services,
      cache,
      tokens,
      tenants,
      request,
      request.params.tenant,
      request.params.controllerId,
    );
    if ('status' in result) {
      await fail(request, reply, result.status, result.message);
      return undefined;
    }
    return result;
  }

  const resolve = (request: DdiRequest, id: DdiIdentity) =>
    resolveAction(services, deployments, {
      ...id,
      address: request.ip,
      userAgent: request.headers['user-agent'],
    });

  async function deploymentView(
    id: DdiIdentity,
    actionId: number,
    release: Release,
    handling: Pick<ActiveAction, 'download' | 'update' | 'maintenanceWindow'>,
    artifacts = chunkArtifacts(id.product, release),
  ) {
    return {
      actionId,
      release,
      artifacts: await Promise.all(
        artifacts.map(async (artifact) => ({ artifact, sha1: await sha1Of(artifact) })),
      ),
      part: ddiSettings(id.product).part,
      name: id.product.name,
      download: handling.download,
      update: handling.update,
      ...(handling.maintenanceWindow ? { maintenanceWindow: handling.maintenanceWindow } : {}),
    };
  }

  const actionParam = (request: DdiRequest): number | undefined => {
    const raw = request.params.actionId ?? '';
    return /^\d{1,10}$/.test(raw) ? Number(raw) : undefined;
  };

  /**
   * A change of the device's DDI state: written at once (not left in the write-behind batch), then announced, so
   * that every replica's next answer for this device reads it (known-devices.ts).
   */
  async function remember(id: DdiIdentity, attributes: Record<string, string>, version?: string) {
    services.devices.checkIn({
      deviceId: id.deviceId,
      product: id.product.name,
      protocol: 'ddi',
      attributes,
      ...(version ? { version } : {}),
    });
    await services.devices.flush();
    cache.changed(id.deviceId);
  }

  async function poll(request: DdiRequest, reply: FastifyReply) {
    const id = await who(request, reply);
    if (!id) return;
    const r = await resolve(request, id);
    const installed = id.device?.installed;
    const configured = id.device?.configured ?? false;
    let links: Record<string, { href: string }> | undefined;
    if (r.cancel || r.action || installed || !configured) {
      const base = baseOf(request);
      links = {};
      if (r.cancel) {
        // The href carries no query string: clients append `/feedback` to it (§6.6).
        links.cancelAction = { href: `${base}/cancelAction/${r.cancel.id}` };
      } else if (r.action) {
        const a = r.action;
        const c = cacheKeyOf(a.id, a.release.id, a.download, a.update, a.maintenanceWindow ?? '');
        links.deploymentBase = { href: `${base}/deploymentBase/${a.id}?c=${c}` };
      }
      if (installed) links.installedBase = { href: `${base}/installedBase/${installed.id}` };
      if (!configured) links.configData = { href: `${base}/configData` };
    }
    const sleep = Math.min(ddiSettings(id.product).pollingSeconds, r.retryAfterSeconds ?? Infinity);
    return sendText(request, reply, 200, pollText(sleep, links));
  }

  async function deploymentBase(request: DdiRequest, reply: FastifyReply) {
    const id = await who(request, reply);
    if (!id) return;
    const actionId = actionParam(request);
    const r = await resolve(request, id);
    const a = r.action;
    if (!a || a.id !== actionId)
      return fail(request, reply, 404, `action ${request.params.actionId} is not open for this device`);
    const ref: ActionRef = {
      id: a.id,
      version: a.release.version,
      ...(a.deploymentId ? { deploymentId: a.deploymentId } : {}),
    };
    if (!id.device?.action || formatRef(id.device.action) !== formatRef(ref)) {
      // The device now holds this action: a later change of decision cancels it rather than drop it silently.
      await services.devices.changeAttributes(id.deviceId, {
        mode: 'merge',
        data: { [ATTR.action]: formatRef(ref) },
      });
      cache.changed(id.deviceId);
    }
    const view = await deploymentView(id, a.id, a.release, a, a.artifacts);
    return sendJson(request, reply, 200, deploymentJson(baseOf(request), request.protocol === 'https', view));
  }

  async function parsedFeedback(request: DdiRequest, reply: FastifyReply): Promise<Feedback | undefined> {
    const f = parseFeedback(request.body);
    if (typeof f === 'string') {
      await fail(request, reply, 400, f);
      return undefined;
    }
    return f;
  }

  /** hawkBit's state mapping (docs/direct-device-integration-api.md) in the deployment contract's words. */
  function outcomeOf(f: Feedback, update: string): Outcome {
    switch (f.execution) {
      case 'closed':
        if (f.finished === 'failure') return 'failed';
        // `update: skip`: the device downloaded and did not install (hawkBit's download-only).
        return update === 'skip' ? 'downloaded' : 'succeeded';
      case 'canceled':
        return 'cancel-acknowledged';
      case 'rejected':
        return 'rejected';
      case 'downloaded':
        return 'downloaded';
      default:
        return 'downloading';
    }
  }

  async function feedback(request: DdiRequest, reply: FastifyReply) {
    const id = await who(request, reply);
    if (!id) return;
    const f = await parsedFeedback(request, reply);
    if (!f) return;
    const open = id.device?.action;
    const actionId = actionParam(request);
    if (!open || open.id !== actionId)
      return fail(request, reply, 410, `action ${request.params.actionId} is no longer active`);
    const { update } = await handlingOf(id.product, deployments, open.deploymentId);
    const outcome = outcomeOf(f, update);
    await services.updates.reportOutcome({
      deviceId: id.deviceId,
      product: id.product.name,
      version: open.version,
      outcome,
      detail: feedbackDetail(f),
    });
    if (f.execution === 'closed' || f.execution === 'canceled') {
      const attributes: Record<string, string> = { [ATTR.action]: '', [ATTR.closed]: String(open.id) };
      if (outcome === 'succeeded') attributes[ATTR.installed] = formatRef(open);
      await remember(id, attributes, outcome === 'succeeded' ? open.version : undefined);
    }
    return reply.code(200).send();
  }

  async function cancelAction(request: DdiRequest, reply: FastifyReply) {
    const id = await who(request, reply);
    if (!id) return;
    const r = await resolve(request, id);
    if (!r.cancel || r.cancel.id !== actionParam(request))
      return fail(request, reply, 404, `no cancellation for action ${request.params.actionId}`);
    return sendJson(request, reply, 200, {
      id: String(r.cancel.id),
      cancelAction: { stopId: String(r.cancel.id) },
    });
  }

  async function cancelFeedback(request: DdiRequest, reply: FastifyReply) {
    const id = await who(request, reply);
    if (!id) return;
    const f = await parsedFeedback(request, reply);
    if (!f) return;
    const r = await resolve(request, id);
    if (!r.cancel || r.cancel.id !== actionParam(request))
      return fail(request, reply, 410, `action ${request.params.actionId} is not being cancelled`);
    const done = f.execution === 'closed' || f.execution === 'canceled' || f.execution === 'rejected';
    if (done) {
      // A rejected cancel still ends the action here: Updraft no longer offers it, so it cannot continue.
      const outcome: Outcome =
        f.execution === 'rejected' || f.finished === 'failure' ? 'rejected' : 'cancel-acknowledged';
      await services.updates.reportOutcome({
        deviceId: id.deviceId,
        product: id.product.name,
        version: r.cancel.version,
        outcome,
        detail: `cancel: ${feedbackDetail(f)}`,
      });
      await remember(id, { [ATTR.action]: '', [ATTR.closed]: String(r.cancel.id) });
    } else {
      services.devices.record(id.deviceId, 'feedback', r.cancel.version, `cancel: ${feedbackDetail(f)}`);
    }
    return reply.code(200).send();
  }

  async function configData(request: DdiRequest, reply: FastifyReply) {
    const id = await who(request, reply);
    if (!id) return;
    const parsed = parseConfigData(request.body);
    if (typeof parsed === 'string') return fail(request, reply, 400, parsed);
    const own = Object.keys(parsed.data).filter(isOwnAttribute);
    if (own.length > 0) return fail(request, reply, 400, `attributes ${own.join(', ')} are Updraft's own`);
    // The device may not have polled yet: make sure it exists, in its token's product.
    services.devices.checkIn({
      deviceId: id.deviceId,
      product: id.product.name,
      protocol: 'ddi',
      address: request.ip,
    });
    await services.devices.changeAttributes(id.deviceId, {
      mode: parsed.mode,
      data: parsed.data,
      keep: isOwnAttribute,
      also: { [ATTR.configAt]: new Date().toISOString() },
    });
    cache.changed(id.deviceId);
    return reply.code(200).send();
  }

  async function installedBase(request: DdiRequest, reply: FastifyReply) {
    const id = await who(request, reply);
    if (!id) return;
    const installed = id.device?.installed;
    const release =
      installed && installed.id === actionParam(request)
        ? await services.releases.find(id.product.name, installed.version)
        : undefined;
    if (!installed || !release)
      return fail(
        request,
        reply,
        404,
        `action ${request.params.actionId} is not this device's installed base`,
      );
    // hawkBit reports the installed action as it was: handling from its deployment, no window any more.
    const { download, update } = await handlingOf(id.product, deployments, installed.deploymentId);
    const view = await deploymentView(id, installed.id, release, { download, update });
    return sendJson(request, reply, 200, deploymentJson(baseOf(request), request.protocol === 'https', view));
  }

  /**
   * A software module is a release the device may fetch: a published release of its product (as every other
   * protocol serves them), or the release of the action it holds (a pin to a draft).
   */
  async function moduleRelease(id: DdiIdentity, moduleId: string | undefined): Promise<Release | undefined> {
    const n = /^\d{1,10}$/.test(moduleId ?? '') ? Number(moduleId) : NaN;
    for (const r of await services.releases.listPublished(id.product.name))
      if (moduleIdOf(r.id) === n) return r;
    const open = id.device?.action;
    const held = open ? await services.releases.find(id.product.name, open.version) : undefined;
    return held && held.state !== 'revoked' && moduleIdOf(held.id) === n ? held : undefined;
  }

  async function moduleArtifacts(request: DdiRequest, reply: FastifyReply) {
    const id = await who(request, reply);
    if (!id) return;
    const release = await moduleRelease(id, request.params.moduleId);
    if (!release) return fail(request, reply, 404, `no software module ${request.params.moduleId}`);
    const base = baseOf(request);
    const https = request.protocol === 'https';
    const list = await Promise.all(
      chunkArtifacts(id.product, release).map(async (a) =>
        artifactJson(base, https, release, a, await sha1Of(a)),
      ),
    );
    return sendJson(request, reply, 200, list);
  }

  async function download(request: DdiRequest, reply: FastifyReply) {
    const id = await who(request, reply);
    if (!id) return;
    const release = await moduleRelease(id, request.params.moduleId);
    const name = request.params.fileName ?? '';
    if (!release) return fail(request, reply, 404, `no software module ${request.params.moduleId}`);
    const artifact = release.artifacts.find((a) => a.name === name);
    if (artifact) {
      services.devices.checkIn({
        deviceId: id.deviceId,
        product: id.product.name,
        protocol: 'ddi',
        offered: release.version,
      });
      return serveArtifact(request, reply, services, options, {
        deviceId: id.deviceId,
        release,
        artifact,
        headers: { 'Content-Disposition': `attachment;filename=${artifact.name}` },
        followsRedirects: followsRedirects(request.headers['user-agent']),
      });
    }
    const md5Of = name.endsWith('.MD5SUM')
      ? release.artifacts.find((a) => `${a.name}.MD5SUM` === name)
      : undefined;
    if (!md5Of)
      return fail(
        request,
        reply,
        404,
        `software module ${request.params.moduleId} has no artifact "${name}"`,
      );
    // DdiRootController.writeMD5FileResponse: `<md5>␠␠<filename>`, as md5sum(1) writes it.
    return reply
      .code(200)
      .header('Content-Disposition', `attachment;filename=${md5Of.name}.MD5SUM`)
      .type('text/plain;charset=UTF-8')
      .send(`${md5Of.md5}  ${md5Of.name}`);
  }

  app.register(async (scope: FastifyInstance) => {
    // DDI bodies are JSON, parsed leniently (wire.ts); CBOR is not supported (415). Clients that send no
    // Content-Type still send JSON.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      ['application/json', 'text/plain'],
      { parseAs: 'string', bodyLimit: 256 * 1024 },
      (_req, body, done) => {
        try {
          done(null, body === '' ? undefined : parseLenientJson(body as string));
        } catch (err) {
          const e = new Error(`the body is not JSON: ${(err as Error).message}`) as Error & {
            statusCode: number;
          };
          e.statusCode = 400;
          done(e, undefined);
        }
      },
    );
    const prefix = '/:tenant/controller/v1/:controllerId';
    scope.get(prefix, poll);
    scope.get(`${prefix}/deploymentBase/:actionId`, deploymentBase);
    scope.post(`${prefix}/deploymentBase/:actionId/feedback`, feedback);
    scope.get(`${prefix}/cancelAction/:actionId`, cancelAction);
    scope.post(`${prefix}/cancelAction/:actionId/feedback`, cancelFeedback);
    scope.put(`${prefix}/configData`, configData);
    scope.get(`${prefix}/installedBase/:actionId`, installedBase);
    scope.get(`${prefix}/softwaremodules/:moduleId/artifacts`, moduleArtifacts);
    scope.get(`${prefix}/softwaremodules/:moduleId/artifacts/:fileName`, download);
    // hawkBit's user-consent flow is not supported: a clear 404 rather than the ESP catch-all's answer.
    const noConfirmation = (request: DdiRequest, reply: FastifyReply) =>
      fail(request, reply, 404, 'confirmationBase is not supported: actions never wait for a confirmation');
    scope.get(`${prefix}/confirmationBase`, noConfirmation);
    scope.get(`${prefix}/confirmationBase/*`, noConfirmation);
    scope.post(`${prefix}/confirmationBase/*`, noConfirmation);
  });
};
