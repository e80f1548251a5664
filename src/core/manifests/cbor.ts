import { Encoder, Tag } from 'cbor-x';
import { DomainError } from '../errors.js';

export { Tag };

/**
 * SUIT signs and digests encoded bytes, so decode → encode must give back the same bytes. cbor-x does that for
 * the subset SUIT uses (ints, bstr, tstr, arrays, maps with integer keys, tags, null) when maps stay `Map`s in
 * their wire order, records and structure sharing are off, and byte strings are not tagged as typed arrays.
 */
const codec = new Encoder({
  useRecords: false,
  mapsAsObjects: false,
  variableMapSize: true,
  tagUint8Array: false,
  copyBuffers: true,
  structuredClone: false,
  pack: false,
});

export type CborMap = Map<unknown, unknown>;

/**
 * A byte string whose content is itself CBOR (CDDL `bstr .cbor T`). The tree view of a manifest keeps the inner
 * value decoded; encoding turns it back into the byte string.
 */
export class Embedded {
  constructor(readonly value: unknown) {}
}

function lower(value: unknown): unknown {
  if (value instanceof Embedded) return encodeCbor(value.value);
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(lower);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [lower(k), lower(v)]));
  if (value instanceof Tag) return new Tag(lower(value.value), value.tag);
  return value;
}

export function encodeCbor(value: unknown): Buffer {
  // A copy: cbor-x hands out a view of its reusable output buffer, with its own `dataView` property attached.
  return Buffer.from(codec.encode(lower(value)));
}

/** Decodes exactly one data item; trailing bytes or a truncated item are a malformed manifest. */
export function decodeCbor(bytes: Uint8Array, what: string): unknown {
  let items: unknown[];
  try {
    // A fresh view: cbor-x caches a `dataView` property on the object it decodes, which must not be the caller's.
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    items = (codec.decodeMultiple(view) ?? []) as unknown[];
  } catch (err) {
    throw new DomainError('MANIFEST_INVALID', `${what}: not valid CBOR (${(err as Error).message})`);
  }
  if (items.length !== 1) {
    throw new DomainError('MANIFEST_INVALID', `${what}: expected one CBOR item, found ${items.length}`);
  }
  return items[0];
}

/** Decodes `bstr .cbor T`: the byte string itself, then its content. */
export function decodeWrapped(value: unknown, what: string): unknown {
  return decodeCbor(expectBytes(value, what), what);
}

/**
 * RFC 8949 §4.2.3 (length-first canonical order, what cbor2's `canonical=True` produces for RIOT's suit-tool):
 * shorter encoded keys first, then bytewise.
 */
export function canonicalMap(entries: Array<[number, unknown]>): CborMap {
  const keyed = entries.map(([k, v]) => ({ k, v, enc: encodeCbor(k) }));
  keyed.sort((a, b) => a.enc.length - b.enc.length || Buffer.compare(a.enc, b.enc));
  return new Map(keyed.map(({ k, v }) => [k, v]));
}

function invalid(what: string, expected: string, value: unknown): DomainError {
  const got =
    value === null ? 'null' : Buffer.isBuffer(value) ? 'bstr' : Array.isArray(value) ? 'array' : typeof value;
  return new DomainError('MANIFEST_INVALID', `${what}: expected ${expected}, got ${got}`);
}

export function expectMap(value: unknown, what: string): CborMap {
  if (value instanceof Map) return value;
  throw invalid(what, 'map', value);
}

export function expectArray(value: unknown, what: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw invalid(what, 'array', value);
}

export function expectBytes(value: unknown, what: string): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  throw invalid(what, 'bstr', value);
}

export function expectInt(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw invalid(what, 'integer', value);
}

export function expectTag(value: unknown, tag: number, what: string): unknown {
  if (value instanceof Tag && value.tag === tag) return value.value;
  throw invalid(what, `tag ${tag}`, value);
}
