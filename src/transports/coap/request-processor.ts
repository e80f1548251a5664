/**
 * The request layer (RFC 7252 §5): option checks, routing, Observe registration, the handler call and the
 * reply. The message layer (types, ids, dedup) is endpoint.ts's job.
 */
import { blockSize, decodeBlock, type BlockValue } from './block.js';
import { Code, isSuccessCode, methodOf, type CoapMessage, type Peer } from './message.js';
import type { ObserveRegistry, Observer } from './observe.js';
import {
  findBadCriticalOption,
  getOption,
  getStringOptions,
  getUintOption,
  Opt,
  uintOption,
} from './options.js';
import type { CoapLogger } from './logger.js';
import { andThen, isPromiseLike, type MaybePromise } from './maybe-async.js';
import type { CoapRequest } from './resource.js';
import { errorOutcome, renderReply, type Outcome } from './response.js';
import type { Route, Router } from './router.js';

export interface RequestProcessorOptions {
  readonly router: Router;
  readonly observe: ObserveRegistry;
  readonly maxSzx: number;
  readonly logger: CoapLogger;
}

const FORWARD: Outcome = { kind: 'forward' };

export const resourceKey = (path: readonly string[]): string => path.join('/');

export class RequestProcessor {
  readonly #router: Router;
  readonly #observe: ObserveRegistry;
  readonly #maxSzx: number;
  readonly #logger: CoapLogger;

  constructor(options: RequestProcessorOptions) {
    this.#router = options.router;
    this.#observe = options.observe;
    this.#maxSzx = options.maxSzx;
    this.#logger = options.logger;
  }

  /**
   * @param delegate this worker forwards requests that need per-peer state to the home worker (endpoint.ts
   *   `forward`): an Observe (de)registration or a route marked `peerState` is answered `forward`.
   */
  process(message: CoapMessage, peer: Peer, delegate = false): MaybePromise<Outcome> {
    const method = methodOf(message.code);
    // RFC 7252 §5.8: a method code we do not know is answered with 4.05.
    if (method === undefined) return errorOutcome(Code.METHOD_NOT_ALLOWED);
    const { options } = message;
    const bad = findBadCriticalOption(options);
    // RFC 7252 §5.4.1: unrecognised or malformed critical options make the request fail with 4.02.
    if (bad !== undefined) return errorOutcome(Code.BAD_OPTION, `bad option ${bad.number}`);
    // RFC 7252 §5.10.2: we are not a proxy.
    if (
      getOption(options, Opt.PROXY_URI) !== undefined ||
      getOption(options, Opt.PROXY_SCHEME) !== undefined
    ) {
      return errorOutcome(Code.PROXYING_NOT_SUPPORTED);
    }
    const block2Raw = getOption(options, Opt.BLOCK2);
    const block2 = block2Raw === undefined ? undefined : decodeBlock(block2Raw);
    // RFC 7959 §2.2: SZX 7 in a request is answered with 4.00.
    if (block2 === 'reserved-szx') return errorOutcome(Code.BAD_REQUEST, 'Block2 SZX 7 is reserved');
    const block1Raw = getOption(options, Opt.BLOCK1);
    if (block1Raw !== undefined) {
      const block1 = decodeBlock(block1Raw);
      if (block1 === 'reserved-szx') return errorOutcome(Code.BAD_REQUEST, 'Block1 SZX 7 is reserved');
      // Request payloads are accepted in one message only; RFC 7959 §2.9.3 lets 4.13 carry the limit in Size1.
      if (block1 === undefined || block1.num > 0 || block1.more) {
        return {
          kind: 'reply',
          code: Code.REQUEST_ENTITY_TOO_LARGE,
          options: [uintOption(Opt.SIZE1, blockSize(this.#maxSzx))],
          payload: Buffer.from('block-wise request payloads are not supported'),
        };
      }
    }

    const path = getStringOptions(options, Opt.URI_PATH);
    const match = this.#router.match(method, path);
    if (match.kind === 'not-found') return errorOutcome(Code.NOT_FOUND);
    if (match.kind === 'method-not-allowed') return errorOutcome(Code.METHOD_NOT_ALLOWED);

    const request: CoapRequest = {
      method,
      path,
      query: getStringOptions(options, Opt.URI_QUERY),
      params: match.params,
      payload: message.payload,
      contentFormat: getUintOption(options, Opt.CONTENT_FORMAT),
      accept: getUintOption(options, Opt.ACCEPT),
      options,
      token: message.token,
      confirmable: message.type === 0,
      peer,
      notification: false,
    };
    const observeValue = method === 'GET' ? getUintOption(options, Opt.OBSERVE) : undefined;
    if (delegate && (observeValue !== undefined || match.route.attributes.peerState === true)) return FORWARD;
    // RFC 7641 §3.6: Observe 1 deregisters; the GET is still answered normally.
    if (observeValue === 1) this.#observe.deregister(resourceKey(path), peer, message.token);
    const observing = observeValue === 0 && match.route.attributes.obs === true;
    const sequence = observing ? this.#observe.nextSequence() : undefined;

    const outcome = this.#run(match.route, request, block2, options, sequence);
    if (!observing) return outcome;
    const key = resourceKey(path);
    return andThen(outcome, (o) => this.#register(o, key, request, match.route, block2));
  }

  #register(
    outcome: Outcome,
    key: string,
    request: CoapRequest,
    route: Route,
    block2: BlockValue | undefined,
  ): Outcome {
    const { peer, token } = request;
    if (outcome.kind === 'reply' && isSuccessCode(outcome.code)) {
      const registered = this.#observe.register({
        resourceKey: key,
        peer,
        token,
        request: { ...request, payload: Buffer.from(request.payload), notification: true },
        route,
        szx: block2?.szx,
      });
      // RFC 7641 §4.1: when the server cannot add the observer it answers without the Observe option.
      if (!registered)
        return { ...outcome, options: outcome.options.filter((o) => o.number !== Opt.OBSERVE) };
    }
    return outcome;
  }

  /** Re-runs an observer's handler for a notification (RFC 7641 §4.2), block 0 if it is large (RFC 7959 §3.4). */
  async render(observer: Observer, sequence: number): Promise<Outcome> {
    const block2 = observer.szx === undefined ? undefined : { num: 0, more: false, szx: observer.szx };
    return this.#run(observer.route, observer.request, block2, observer.request.options, sequence);
  }

  /** Calls the handler and renders its reply; synchronous all the way when both are. */
  #run(
    route: Route,
    request: CoapRequest,
    block2: BlockValue | undefined,
    options: CoapMessage['options'],
    observe: number | undefined,
  ): MaybePromise<Outcome> {
    const ifMatch: Buffer[] = [];
    for (const o of options) if (o.number === Opt.IF_MATCH) ifMatch.push(o.value);
    // RFC 7959 §2.4 late negotiation: a resource may answer a request without Block2 in small blocks, so a
    // short unsolicited request (a spoofed-source /.well-known/core) cannot be amplified into a large answer.
    const first = route.attributes.unsolicitedSzx;
    const context = {
      block2,
      wantsSize2: getOption(options, Opt.SIZE2) !== undefined,
      maxSzx: block2 === undefined && first !== undefined ? Math.min(first, this.#maxSzx) : this.#maxSzx,
      accept: request.accept,
      observe,
      ...(ifMatch.length > 0 ? { ifMatch } : {}),
      ...(getOption(options, Opt.IF_NONE_MATCH) !== undefined ? { ifNoneMatch: true } : {}),
    };
    const fail = (err: unknown): Outcome => {
      // RFC 7252 §5.9.3.1: a failing handler is the server's fault; the endpoint keeps serving.
      this.#logger.error(
        { err, method: request.method, path: request.path.join('/') },
        'CoAP handler failed',
      );
      return errorOutcome(Code.INTERNAL_SERVER_ERROR);
    };
    try {
      const outcome = andThen(route.handler(request), (reply) => renderReply(reply, context));
      return isPromiseLike(outcome) ? outcome.catch(fail) : outcome;
    } catch (err) {
      return fail(err);
    }
  }
}
