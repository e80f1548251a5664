/**
 * STM32 / firmwaremodules devices (seeds.md §4): `/updates` with a binary payload naming PID, TYPE, VERSION and
 * a resume OFFSET. Mapping (docs/coap.md, "STM32 updates"): product = the PID, artifact = `type-<TYPE>.fmu`,
 * release version = `major.minor.build`; the device is keyed by its address (the protocol carries no id).
 *
 *   GET|POST /updates        one-step: 2.05 + Block2, the image from OFFSET; RST when there is no newer image
 *                            (the seed's "no update" signal); 4.00 for a malformed payload or OFFSET ≥ size
 *   GET|POST /updates        without OFFSET: step 1 of the README's two-step form, answers an 8-hex id
 *   GET|POST /updates/<id>   step 2, payload = OFFSET (uint32 LE): as the one-step answer; 4.04 for an unknown id
 */
import type { Artifact, Release } from '../../../core/catalog/types.js';
import { isDomainError } from '../../../core/errors.js';
import { isValidName } from '../../../core/names.js';
import { decodeBlock } from '../block.js';
import { Code, type Method } from '../message.js';
import { ContentFormat, getOption, Opt } from '../options.js';
import type { CoapReply, CoapRequest } from '../resource.js';
import type { CoapAdapter } from './adapter.js';
import { artifactBody, deviceIdOf } from './artifact-body.js';
import { coapErrorReply } from './error-codes.js';
import { ExpiringMap } from '../../../core/cache.js';
import { systemClock } from '../../../core/clock.js';
import { artifactNameOfType, parseUpdatesPayload, stepId, type UpdatesQuery } from './stm32-protocol.js';
import { createProductLookup, refusal } from './coap-access.js';

export const PROTOCOL = 'stm32-coap';

interface Offer {
  readonly release: Release;
  readonly artifact: Artifact;
}

export interface Stm32Options {
  /** Two-step ids: how many are kept, and for how long after their last use. */
  readonly maxIds?: number;
  readonly idTtlMs?: number;
  /** A transfer's decision, kept so that later blocks neither re-decide nor count as new check-ins. */
  readonly maxTransfers?: number;
  readonly transferTtlMs?: number;
  /** POST payloads remembered for their Block2 follow-ups: total bytes, and how long after their last use. */
  readonly maxPostBodyBytes?: number;
  readonly postBodyTtlMs?: number;
}

/**
 * Block 0 (or no Block2) starts a transfer; the device repeats its payload on every block (seeds.md §4.2), so a
 * later block could re-run the decision, but that would record one check-in per block.
 */
function isFirstBlock(req: CoapRequest): boolean {
  const raw = getOption(req.options, Opt.BLOCK2);
  const block = raw === undefined ? undefined : decodeBlock(raw);
  return block === undefined || block === 'reserved-szx' || block.num === 0;
}

const badRequest = (reason: string): CoapReply => ({ code: Code.BAD_REQUEST, body: reason });

export function createStm32Updates(options: Stm32Options = {}): CoapAdapter {
  return (server, services, adapterOptions) => {
    const deviceIds = adapterOptions.deviceIds ?? deviceIdOf;
    const ids = new ExpiringMap<string, Offer>(options.maxIds ?? 10_000, options.idTtlMs ?? 60 * 60_000);
    const transfers = new ExpiringMap<string, Offer>(
      options.maxTransfers ?? 10_000,
      options.transferTtlMs ?? 10 * 60_000,
    );
    // Unauthenticated and per source port: bounded by count, bytes (1 MiB in all) and time (60 s since use).
    const postBodies = new ExpiringMap<string, Buffer>(
      options.maxTransfers ?? 10_000,
      options.postBodyTtlMs ?? 60_000,
      systemClock,
      { max: options.maxPostBodyBytes ?? 1024 * 1024, sizeOf: (b) => b.length + 64 },
    );

    const productOf = createProductLookup(services);

    /** Whether the product's CoAP access policy lets this request have its images (coap-access.ts). */
    async function mayServe(name: string, req: CoapRequest): Promise<boolean> {
      const product = await productOf(name);
      return product !== undefined && refusal(product, req) === undefined;
    }

    /** THE update decision, in the core; undefined = no newer image (or no such product) = RST. */
    async function decide(query: UpdatesQuery, req: CoapRequest): Promise<Offer | undefined> {
      // A PID that cannot be a product name cannot have releases: the seed's "no match".
      if (!isValidName(query.pid)) return undefined;
      // A product closed to CoAP looks like no product at all: the seed's "no match" (RST).
      if (!(await mayServe(query.pid, req))) return undefined;
      try {
        const decision = await services.updates.check({
          product: query.pid,
          deviceId: deviceIds(req.peer),
          protocol: PROTOCOL,
          address: req.peer.address,
          attributes: { type: String(query.type) },
          report: { version: query.version },
          artifactNames: [artifactNameOfType(query.type)],
        });
        return decision.kind === 'update' ? decision : undefined;
      } catch (err) {
        if (isDomainError(err, 'PRODUCT_NOT_FOUND')) return undefined;
        throw err;
      }
    }

    function serve(offer: Offer, offset: number, req: CoapRequest): CoapReply {
      // The seed logged and never answered (the device waited forever); an error code lets it give up.
      if (offset >= offer.artifact.size) {
        return badRequest(`OFFSET ${offset} is not below the image size ${offer.artifact.size}`);
      }
      return {
        code: Code.CONTENT,
        body: artifactBody(services, offer.release, offer.artifact, {
          offset,
          deviceId: deviceIds(req.peer),
          family: 'stm32-updates',
          // The seed sends no Content-Format; the image is opaque (encrypted) data to everyone but the device.
          contentFormat: null,
        }),
      };
    }

    /**
     * RFC 7959 §3.3 (figure 14): a client that POSTs the payload asks for the further blocks of the answer with
     * POST + Block2 and no payload (libcoap does). Such a follow-up gets the payload its transfer started with,
     * remembered per peer (address and port) and path.
     */
    function payloadOf(req: CoapRequest): Buffer {
      if (req.method !== 'POST') return req.payload;
      const key = `${req.peer.address}|${req.peer.port}|${req.path.join('/')}`;
      if (req.payload.length > 0) {
        // Only a payload that is a query is worth remembering (at most 265 bytes); junk is answered 4.00 anyway.
        if (isFirstBlock(req) && typeof parseUpdatesPayload(req.payload) !== 'string') {
          postBodies.set(key, Buffer.from(req.payload));
        }
        return req.payload;
      }
      return (isFirstBlock(req) ? undefined : postBodies.get(key, { touch: true })) ?? req.payload;
    }

    async function updates(req: CoapRequest): Promise<CoapReply> {
      const body = payloadOf(req);
      const query = parseUpdatesPayload(body);
      if (typeof query === 'string') return badRequest(query);
      if (query.offset === undefined) {
        const offer = await decide(query, req);
        if (!offer) return { reset: true };
        const id = stepId(offer.release, offer.artifact);
        ids.set(id, offer);
        return { code: Code.CONTENT, body: id, contentFormat: ContentFormat.TEXT_PLAIN };
      }
      const key = `${deviceIdOf(req.peer)}|${body.toString('hex')}`;
      let offer = isFirstBlock(req) ? undefined : transfers.get(key, { touch: true });
      if (!offer) {
        offer = await decide(query, req);
        if (!offer) return { reset: true };
        transfers.set(key, offer);
      }
      return serve(offer, query.offset, req);
    }

    async function byId(req: CoapRequest): Promise<CoapReply> {
      const id = (req.params.id ?? '').toLowerCase();
      const offer = /^[0-9a-f]{8}$/.test(id) ? ids.get(id, { touch: true }) : undefined;
      if (!offer) return { code: Code.NOT_FOUND, body: 'unknown or expired id; ask /updates again' };
      const body = payloadOf(req);
      if (body.length !== 4) return badRequest('payload must be OFFSET, a 4-byte uint32 LE');
      // Only while the release is still published: a revoked image is not served from an old id.
      const published = await services.releases.listPublished(offer.release.product);
      if (
        !published.some((r) => r.id === offer.release.id) ||
        !(await mayServe(offer.release.product, req))
      ) {
        ids.delete(id);
        return { code: Code.NOT_FOUND, body: 'the release is no longer published' };
      }
      return serve(offer, body.readUInt32LE(0), req);
    }

    const guarded =
      (handler: (req: CoapRequest) => Promise<CoapReply>) =>
      (req: CoapRequest): Promise<CoapReply> =>
        handler(req).catch(coapErrorReply);
    // GET is what devices send; POST too, for CoAP stacks that put no payload on a GET.
    for (const method of ['GET', 'POST'] as Method[]) {
      // Two-step ids, transfers and POST payloads live in this process: one worker answers them all.
      server.route(method, '/updates', guarded(updates), { rt: 'firmware-updates', peerState: true });
      server.route(method, '/updates/:id', guarded(byId), { peerState: true });
    }

    return services.releaseEvents.subscribe(({ type, release }) => {
      if (type !== 'revoked' && type !== 'deleted') return;
      const ofRelease = (o: Offer): boolean => o.release.id === release.id;
      ids.deleteWhere(ofRelease);
      transfers.deleteWhere(ofRelease);
    });
  };
}

export const stm32Updates: CoapAdapter = createStm32Updates();
