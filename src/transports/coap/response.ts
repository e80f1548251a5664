/** Turns a handler's CoapReply into response code, options and payload (RFC 7252 §5.5, §5.10; RFC 7959 §2). */
import { blockSize, type BlockValue } from './block.js';
import { readBlock } from './block2-server.js';
import { andThen, type MaybePromise } from './maybe-async.js';
import { Code, EMPTY_BUFFER, isSuccessCode, type CoapOption } from './message.js';
import { ContentFormat, encodeUint, Opt, sortOptions } from './options.js';
import { bufferBody, type CoapBody, type CoapReply } from './resource.js';

export type Outcome =
  | {
      readonly kind: 'reply';
      readonly code: number;
      readonly options: CoapOption[];
      readonly payload: Buffer;
    }
  | { readonly kind: 'reset' }
  /** Answered by another worker (endpoint.ts `forward`): the request needs per-peer state kept there. */
  | { readonly kind: 'forward' };

export interface ReplyContext {
  readonly block2: BlockValue | undefined;
  readonly wantsSize2: boolean;
  readonly maxSzx: number;
  readonly accept: number | undefined;
  /** Observe sequence number to put on a 2.xx answer (RFC 7641 §4.2). */
  readonly observe?: number | undefined;
  /** The request's If-Match values (RFC 7252 §5.10.8.1); an empty value matches any representation. */
  readonly ifMatch?: readonly Buffer[];
  /** The request carried If-None-Match (§5.10.8.2): it only proceeds when there is no representation. */
  readonly ifNoneMatch?: boolean;
}

/**
 * RFC 7252 §5.10.8: If-Match needs one listed ETag to be the current one (or an empty value and any current
 * representation); If-None-Match needs there to be none. Otherwise 4.12 Precondition Failed, without a body.
 */
function preconditionFails(ctx: ReplyContext, etag: Buffer | undefined): boolean {
  if (ctx.ifNoneMatch === true) return true;
  if (ctx.ifMatch === undefined || ctx.ifMatch.length === 0) return false;
  const current = etag !== undefined && etag.length > 8 ? etag.subarray(0, 8) : etag;
  return !ctx.ifMatch.some((v) => v.length === 0 || (current !== undefined && v.equals(current)));
}

/** An error answer with an optional diagnostic payload (RFC 7252 §5.5.2: no Content-Format, UTF-8 text). */
export function errorOutcome(code: number, diagnostic?: string): Outcome {
  return {
    kind: 'reply',
    code,
    options: [],
    payload: diagnostic === undefined ? EMPTY_BUFFER : Buffer.from(diagnostic, 'utf8'),
  };
}

export function renderReply(reply: CoapReply, ctx: ReplyContext): MaybePromise<Outcome> {
  if (reply.reset === true) return { kind: 'reset' };
  const success = isSuccessCode(reply.code);
  const rawBody = reply.body ?? EMPTY_BUFFER;
  const body: Buffer | CoapBody = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  const bodyIsBuffer = Buffer.isBuffer(body);
  const contentFormat =
    reply.contentFormat ??
    (bodyIsBuffer ? undefined : body.contentFormat) ??
    (typeof rawBody === 'string' && success ? ContentFormat.TEXT_PLAIN : undefined);

  if (!success) {
    // Error payloads are diagnostics and are never split into blocks (RFC 7959 §2.2 applies to 2.xx bodies).
    const payload = bodyIsBuffer ? body.subarray(0, blockSize(ctx.maxSzx)) : EMPTY_BUFFER;
    return { kind: 'reply', code: reply.code, options: sortOptions([...(reply.options ?? [])]), payload };
  }
  // RFC 7252 §5.10.4: a Content-Format other than the one the client accepts is answered with 4.06.
  if (ctx.accept !== undefined && contentFormat !== undefined && contentFormat !== ctx.accept) {
    return errorOutcome(Code.NOT_ACCEPTABLE);
  }
  const etag = reply.etag ?? (bodyIsBuffer ? undefined : body.etag);
  if ((ctx.ifNoneMatch === true || ctx.ifMatch !== undefined) && preconditionFails(ctx, etag)) {
    return errorOutcome(Code.PRECONDITION_FAILED);
  }
  if (bodyIsBuffer && ctx.block2 === undefined && body.length <= blockSize(ctx.maxSzx)) {
    const size2 = ctx.wantsSize2 ? body.length : undefined;
    return {
      kind: 'reply',
      code: reply.code,
      options: optionsFor(reply, contentFormat, etag, ctx, undefined, size2),
      payload: body,
    };
  }
  const source = bodyIsBuffer ? bufferBody(body) : body;
  return andThen(readBlock(source, ctx.block2, ctx.maxSzx, ctx.wantsSize2), (block): Outcome => {
    if (!block.ok) return errorOutcome(block.code, block.diagnostic);
    const options = optionsFor(reply, contentFormat, etag, ctx, block.block2, block.size2);
    return { kind: 'reply', code: reply.code, options, payload: block.payload };
  });
}

/** The response options in number order (RFC 7252 §3.1), built without a sort in the common case. */
function optionsFor(
  reply: { readonly maxAge?: number; readonly options?: readonly CoapOption[] },
  contentFormat: number | undefined,
  etag: Buffer | undefined,
  ctx: ReplyContext,
  block2: Buffer | undefined,
  size2: number | undefined,
): CoapOption[] {
  const options: CoapOption[] = [];
  // RFC 7252 §5.10.6: on every block, so a client notices when the representation changed mid-transfer.
  if (etag !== undefined && etag.length > 0) {
    options.push({ number: Opt.ETAG, value: etag.length > 8 ? etag.subarray(0, 8) : etag });
  }
  if (ctx.observe !== undefined) options.push({ number: Opt.OBSERVE, value: encodeUint(ctx.observe) });
  if (contentFormat !== undefined)
    options.push({ number: Opt.CONTENT_FORMAT, value: encodeUint(contentFormat) });
  if (reply.maxAge !== undefined) options.push({ number: Opt.MAX_AGE, value: encodeUint(reply.maxAge) });
  if (block2 !== undefined) options.push({ number: Opt.BLOCK2, value: block2 });
  if (size2 !== undefined) options.push({ number: Opt.SIZE2, value: encodeUint(size2) });
  if (reply.options === undefined || reply.options.length === 0) return options;
  return sortOptions([...options, ...reply.options]);
}
