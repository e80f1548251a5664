/** What adapters see: requests in, replies out. Transport-neutral enough for the core to feed it. */
import type { CoapOption, Method, Peer } from './message.js';

/**
 * A representation served in blocks without ever being loaded whole (RFC 7959 §2): one ranged read per
 * block. `read` must resolve to exactly `length` bytes (the caller never asks past `size`).
 */
export interface CoapBody {
  readonly size: number;
  /** Up to 8 bytes (RFC 7252 §5.10.6); sent on every block so a client can detect a change mid-transfer. */
  readonly etag?: Buffer;
  readonly contentFormat?: number;
  read(start: number, length: number): Promise<Buffer> | Buffer;
}

export interface CoapRequest {
  readonly method: Method;
  /** Uri-Path segments, percent-decoding already undone by the wire format (RFC 7252 §6.4). */
  readonly path: readonly string[];
  readonly query: readonly string[];
  /** Named segments of the matched route (`:name`), and `*` for the rest after a trailing `*`. */
  readonly params: Readonly<Record<string, string>>;
  readonly payload: Buffer;
  readonly contentFormat: number | undefined;
  readonly accept: number | undefined;
  /** All options as received, sorted by number, for the rare handler that needs one not lifted above. */
  readonly options: readonly CoapOption[];
  readonly token: Buffer;
  readonly confirmable: boolean;
  readonly peer: Peer;
  /** True when this call produces an Observe notification (RFC 7641 §4.2) rather than answering a request. */
  readonly notification: boolean;
}

export type CoapReply =
  | {
      /** Response code, e.g. Code.CONTENT (2.05). */
      readonly code: number;
      /** A Buffer or string up to the block size goes out in one message; anything larger goes block-wise. */
      readonly body?: Buffer | string | CoapBody;
      /** Overrides the body's own contentFormat. */
      readonly contentFormat?: number;
      readonly etag?: Buffer;
      readonly maxAge?: number;
      /** Extra options (e.g. Location-Path). Options the endpoint sets itself must not be repeated here. */
      readonly options?: readonly CoapOption[];
      readonly reset?: undefined;
    }
  /** Answer with a RST (the STM32 /updates "no update" signal, seeds.md §4.2). */
  | { readonly reset: true };

export type CoapHandler = (req: CoapRequest) => Promise<CoapReply> | CoapReply;

/** RFC 6690 §3 target attributes listed by /.well-known/core. */
export interface LinkAttributes {
  readonly rt?: string;
  readonly if?: string;
  readonly ct?: number;
  readonly sz?: number;
  readonly title?: string;
  /** Observable (RFC 7641 §6); also lets GET with Observe 0 register on this route. */
  readonly obs?: boolean;
}

export interface ResourceAttributes extends LinkAttributes {
  /** Leave out of /.well-known/core. */
  readonly hidden?: boolean;
  /**
   * The handler keeps state per peer between requests (the STM32 two-step ids, POST payloads for Block2
   * follow-ups): with the cluster's shared socket, such requests are all answered by one worker (docs/coap.md).
   */
  readonly peerState?: boolean;
  /** SZX of the first block when the request has no Block2 (RFC 7959 §2.4), to keep unsolicited answers small. */
  readonly unsolicitedSzx?: number;
  /**
   * For a pattern with parameters: the concrete resources to list (e.g. every published firmware file).
   * Patterns without parameters are listed as they are.
   */
  readonly instances?: () => Iterable<{ readonly path: string; readonly attributes?: LinkAttributes }>;
}

/** A CoapBody over an in-memory Buffer: reads are zero-copy views. */
export function bufferBody(data: Buffer, contentFormat?: number, etag?: Buffer): CoapBody {
  return {
    size: data.length,
    ...(etag !== undefined ? { etag } : {}),
    ...(contentFormat !== undefined ? { contentFormat } : {}),
    read: (start, length) => data.subarray(start, start + length),
  };
}

/** The 8-byte ETag Updraft uses for an image: the first 8 bytes of its sha256 (hex or raw digest). */
export function etagFromSha256(sha256: string | Buffer): Buffer {
  // Called per block: decode only the 16 hex digits the ETag needs, in one allocation.
  const etag =
    typeof sha256 === 'string' ? Buffer.from(sha256.slice(0, 16), 'hex') : Buffer.from(sha256.subarray(0, 8));
  if (etag.length < 8) throw new RangeError('sha256 digest too short for an ETag');
  return etag;
}
