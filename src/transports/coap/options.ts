import type { CoapOption } from './message.js';

/** Option numbers (RFC 7252 §5.10, §12.2; RFC 7641 §2; RFC 7959 §2.1, §4). */
export const Opt = {
  IF_MATCH: 1,
  URI_HOST: 3,
  ETAG: 4,
  IF_NONE_MATCH: 5,
  OBSERVE: 6,
  URI_PORT: 7,
  LOCATION_PATH: 8,
  URI_PATH: 11,
  CONTENT_FORMAT: 12,
  MAX_AGE: 14,
  URI_QUERY: 15,
  ACCEPT: 17,
  LOCATION_QUERY: 20,
  BLOCK2: 23,
  BLOCK1: 27,
  SIZE2: 28,
  PROXY_URI: 35,
  PROXY_SCHEME: 39,
  SIZE1: 60,
} as const;

/** Content-Format registry entries Updraft uses (RFC 7252 §12.3, RFC 6690 §7.2, RFC 7049 §7.4). */
export const ContentFormat = {
  TEXT_PLAIN: 0,
  LINK_FORMAT: 40,
  OCTET_STREAM: 42,
  JSON: 50,
  CBOR: 60,
} as const;

/** Permitted value lengths [min, max] (RFC 7252 §5.10 table 4; RFC 7641 §2; RFC 7959 §2.1, §4). */
const LENGTHS: ReadonlyMap<number, readonly [number, number]> = new Map([
  [Opt.IF_MATCH, [0, 8]],
  [Opt.URI_HOST, [1, 255]],
  [Opt.ETAG, [1, 8]],
  [Opt.IF_NONE_MATCH, [0, 0]],
  [Opt.OBSERVE, [0, 3]],
  [Opt.URI_PORT, [0, 2]],
  [Opt.LOCATION_PATH, [0, 255]],
  [Opt.URI_PATH, [0, 255]],
  [Opt.CONTENT_FORMAT, [0, 2]],
  [Opt.MAX_AGE, [0, 4]],
  [Opt.URI_QUERY, [0, 255]],
  [Opt.ACCEPT, [0, 2]],
  [Opt.LOCATION_QUERY, [0, 255]],
  [Opt.BLOCK2, [0, 3]],
  [Opt.BLOCK1, [0, 3]],
  [Opt.SIZE2, [0, 4]],
  [Opt.PROXY_URI, [1, 1034]],
  [Opt.PROXY_SCHEME, [1, 255]],
  [Opt.SIZE1, [0, 4]],
]);

/** Options that may occur more than once (RFC 7252 §5.4.5, table 4). */
const REPEATABLE: ReadonlySet<number> = new Set([
  Opt.IF_MATCH,
  Opt.ETAG,
  Opt.LOCATION_PATH,
  Opt.URI_PATH,
  Opt.URI_QUERY,
  Opt.LOCATION_QUERY,
]);

/** Odd numbers are critical (RFC 7252 §5.4.6). */
export const isCritical = (n: number): boolean => (n & 1) === 1;

/**
 * The first option of a request that must be rejected with 4.02 Bad Option: an unrecognised critical option
 * (RFC 7252 §5.4.1), a critical option with a value length out of range (§5.4.3) or a repeated non-repeatable
 * critical option (§5.4.5). Elective ones in the same situations are silently ignored by the readers below.
 */
export function findBadCriticalOption(options: readonly CoapOption[]): CoapOption | undefined {
  let previous = -1;
  for (const option of options) {
    const n = option.number;
    if (!isCritical(n)) {
      previous = n;
      continue;
    }
    const range = LENGTHS.get(n);
    if (range === undefined) return option;
    if (option.value.length < range[0] || option.value.length > range[1]) return option;
    if (n === previous && !REPEATABLE.has(n)) return option;
    previous = n;
  }
  return undefined;
}

/**
 * Shared encodings of small values (Content-Format, Max-Age, ...), so the per-block path does not allocate
 * them. Option values are never written to after encoding, so sharing is safe.
 */
const SMALL_UINTS: readonly Buffer[] = Array.from({ length: 1024 }, (_, i) => encodeUintFresh(i));

/** Minimal big-endian uint encoding: 0 is zero bytes (RFC 7252 §3.2). */
export function encodeUint(value: number): Buffer {
  if (value < 0 || !Number.isInteger(value) || value > 0xffffffff) {
    throw new RangeError(`uint option value out of range: ${value}`);
  }
  return SMALL_UINTS[value] ?? encodeUintFresh(value);
}

function encodeUintFresh(value: number): Buffer {
  if (value === 0) return Buffer.alloc(0);
  const length = value <= 0xff ? 1 : value <= 0xffff ? 2 : value <= 0xffffff ? 3 : 4;
  const out = Buffer.allocUnsafe(length);
  out.writeUIntBE(value, 0, length);
  return out;
}

/** Decodes up to 4 bytes; leading zeros are tolerated as the RFC allows (RFC 7252 §3.2). */
export function decodeUint(value: Buffer): number {
  let out = 0;
  for (let i = 0; i < value.length; i++) out = out * 256 + (value[i] ?? 0);
  return out;
}

export function getOption(options: readonly CoapOption[], n: number): Buffer | undefined {
  for (const option of options) {
    if (option.number === n) return option.value;
    if (option.number > n) return undefined;
  }
  return undefined;
}

/** A single uint option, undefined if absent or (elective and) over-long (RFC 7252 §5.4.3). */
export function getUintOption(options: readonly CoapOption[], n: number): number | undefined {
  const value = getOption(options, n);
  if (value === undefined) return undefined;
  const range = LENGTHS.get(n);
  if (range !== undefined && value.length > range[1]) return undefined;
  return value.length > 4 ? undefined : decodeUint(value);
}

export function getStringOptions(options: readonly CoapOption[], n: number): string[] {
  const out: string[] = [];
  for (const option of options) {
    if (option.number === n) out.push(option.value.toString('utf8'));
    else if (option.number > n) break;
  }
  return out;
}

/** Stable sort by number; the codec requires it, and repeated options keep their relative order (§5.4.5). */
export function sortOptions(options: CoapOption[]): CoapOption[] {
  return options.sort(byNumber);
}

const byNumber = (a: CoapOption, b: CoapOption): number => a.number - b.number;

export const stringOptions = (n: number, values: readonly string[]): CoapOption[] =>
  values.map((v) => ({ number: n, value: Buffer.from(v, 'utf8') }));

export const uintOption = (n: number, value: number): CoapOption => ({ number: n, value: encodeUint(value) });
