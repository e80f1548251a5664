/** Turns a handler's CoapReply into response code, options and payload (RFC 7252 §5.5, §5.10; RFC 7959 §2). */
import { blockSize, type BlockValue } from './block.js';
import { readBlock } from './block2-server.js';
import { Code, EMPTY_BUFFER, isSuccessCode, type CoapOption } from './message.js';
import { ContentFormat, encodeUint, Opt, sortOptions } from './options.js';
import { bufferBody, isCoapBody, type CoapBody, type CoapReply } from './resource.js';

export type Outcome =
  | { readonly kind: 'reply'; readonly code: number; readonly options: CoapOption[]; readonly payload: Buffer }
  | { readonly kind: 'reset' };

export interface ReplyContext {
  readonly block2: BlockValue | undefined;
  readonly wantsSize2: boolean;
  readonly maxSzx: number;
  readonly accept: number | undefined;
  /** Observe sequence number to put on a 2.xx answer (RFC 7641 §4.2). */
  readonly observe?: number | undefined;
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

export async function renderReply(reply: CoapReply, ctx: ReplyContext): Promise<Outcome> {
  if (reply.reset === true) return { kind: 'reset' };
  const success = isSuccessCode(reply.code);
  const rawBody = reply.body ?? EMPTY_BUFFER;
  const body: Buffer | CoapBody = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  const contentFormat =
    reply.contentFormat ??
    (isCoapBody(body) ? body.contentFormat : undefined) ??
    (typeof rawBody === 'string' && success ? ContentFormat.TEXT_PLAIN : undefined);

  if (!success) {
    // Error payloads are diagnostics and are never split into blocks (RFC 7959 §2.2 applies to 2.xx bodies).
    const payload = isCoapBody(body) ? EMPTY_BUFFER : body.subarray(0, blockSize(ctx.maxSzx));
    return { kind: 'reply', code: reply.code, options: sortOptions([...(reply.options ?? [])]), payload };
  }
  // RFC 7252 §5.10.4: a Content-Format other than the one the client accepts is answered with 4.06.
  if (ctx.accept !== undefined && contentFormat !== undefined && contentFormat !== ctx.accept) {
    return errorOutcome(Code.NOT_ACCEPTABLE);
  }

  const options: CoapOption[] = reply.options === undefined ? [] : [...reply.options];
  const etag = reply.etag ?? (isCoapBody(body) ? body.etag : undefined);
  let payload: Buffer;
  if (Buffer.isBuffer(body) && ctx.block2 === undefined && body.length <= blockSize(ctx.maxSzx)) {
    payload = body;
    if (ctx.wantsSize2) options.push({ number: Opt.SIZE2, value: encodeUint(body.length) });
  } else {
    const block = await readBlock(
      isCoapBody(body) ? body : bufferBody(body),
      ctx.block2,
      ctx.maxSzx,
      ctx.wantsSize2,
    );
    if (!block.ok) return errorOutcome(block.code, block.diagnostic);
    payload = block.payload;
    if (block.block2 !== undefined) options.push({ number: Opt.BLOCK2, value: block.block2 });
    if (block.size2 !== undefined) options.push({ number: Opt.SIZE2, value: encodeUint(block.size2) });
  }
  if (contentFormat !== undefined) options.push({ number: Opt.CONTENT_FORMAT, value: encodeUint(contentFormat) });
  // RFC 7252 §5.10.6: on every block, so a client notices when the representation changed mid-transfer.
  if (etag !== undefined && etag.length > 0) options.push({ number: Opt.ETAG, value: etag.subarray(0, 8) });
  if (reply.maxAge !== undefined) options.push({ number: Opt.MAX_AGE, value: encodeUint(reply.maxAge) });
  if (ctx.observe !== undefined) options.push({ number: Opt.OBSERVE, value: encodeUint(ctx.observe) });
  return { kind: 'reply', code: reply.code, options: sortOptions(options), payload };
}
