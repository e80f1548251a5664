/**
 * Stateless Block2 serving (RFC 7959 §2.2–§2.4): each request names its block; we answer it with one ranged
 * read. No per-transfer state, no whole-image work, so a client that changes its token on every block
 * (libcoap does, baselines.md §3d) costs the same as one that does not.
 */
import { blockSize, encodeBlock, MAX_BLOCK_NUM, type BlockValue } from './block.js';
import { andThen, type MaybePromise } from './maybe-async.js';
import { Code, EMPTY_BUFFER } from './message.js';
import type { CoapBody } from './resource.js';

export type BlockResult =
  | {
      readonly ok: true;
      readonly payload: Buffer;
      /** Encoded Block2 value, or undefined when the body went out whole without block-wise transfer. */
      readonly block2: Buffer | undefined;
      readonly size2: number | undefined;
    }
  | { readonly ok: false; readonly code: number; readonly diagnostic: string };

/**
 * Reads the block a request asks for.
 * @param requested the request's Block2, undefined if it had none
 * @param maxSzx the largest SZX the server sends (6 = 1024 bytes unless `maxBlockSize` lowers it)
 * @param wantsSize2 the request carried Size2 (RFC 7959 §4: a request for the total size)
 */
export function readBlock(
  body: CoapBody,
  requested: BlockValue | undefined,
  maxSzx: number,
  wantsSize2: boolean,
): MaybePromise<BlockResult> {
  const size = body.size;
  if (requested === undefined && size <= blockSize(maxSzx)) {
    const size2 = wantsSize2 ? size : undefined;
    if (size === 0) return { ok: true, payload: EMPTY_BUFFER, block2: undefined, size2 };
    return andThen(body.read(0, size), (payload) =>
      payload.length === size
        ? { ok: true, payload, block2: undefined, size2 }
        : shortRead(payload.length, size),
    );
  }
  // RFC 7959 §2.2: a server MUST use the requested size or a smaller one, never a larger one; with no Block2
  // in the first request we pick the largest allowed (1024 unless configured lower, as aiocoap and RIOT expect).
  const requestedSzx = requested?.szx ?? maxSzx;
  const szx = Math.min(requestedSzx, maxSzx);
  const offset = (requested?.num ?? 0) * blockSize(requestedSzx);
  // RFC 7959 §2.4: with a smaller size the block number is counted in the smaller size, same byte offset.
  const num = offset / blockSize(szx);
  if ((offset >= size && offset > 0) || num > MAX_BLOCK_NUM) {
    // RFC 7959 §2.2: a block past the end of the representation is answered with 4.02 Bad Option.
    return { ok: false, code: Code.BAD_OPTION, diagnostic: 'Block2 past the end' };
  }
  const length = Math.min(blockSize(szx), size - offset);
  const block2 = encodeBlock(num, offset + length < size, szx);
  // RFC 7959 §4: Size2 answers a request that carried it; on block 0 it lets the client preallocate.
  const size2 = wantsSize2 || num === 0 ? size : undefined;
  if (length === 0) return { ok: true, payload: EMPTY_BUFFER, block2, size2 };
  return andThen(body.read(offset, length), (payload) =>
    payload.length === length ? { ok: true, payload, block2, size2 } : shortRead(payload.length, length),
  );
}

function shortRead(got: number, wanted: number): BlockResult {
  return {
    ok: false,
    code: Code.INTERNAL_SERVER_ERROR,
    diagnostic: `short read: ${got} of ${wanted} bytes`,
  };
}
