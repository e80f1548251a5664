import { Embedded, Tag, decodeWrapped, encodeCbor, expectArray, expectMap, type CborMap } from './cbor.js';
import type { SuitFormat } from './digest.js';
import { detectFormat } from './envelope.js';
import {
  COMMON_SEQUENCE,
  ENVELOPE_AUTH,
  ENVELOPE_MANIFEST,
  MANIFEST_COMMON,
  PARAM_IMAGE_DIGEST,
  type SuitSchema,
} from './schema.js';

/**
 * The whole envelope decoded, every `bstr .cbor` member replaced by an `Embedded` holding its decoded value. It
 * is what `inspect` renders and what the round-trip tests re-encode: `encodeEnvelopeTree(decodeEnvelopeTree(b))`
 * gives back `b` when every nested item was deterministically encoded.
 */
export interface EnvelopeTree {
  format: SuitFormat;
  schema: SuitSchema;
  /** Tag 107 around the map for draft-37, the bare map for RIOT. */
  root: unknown;
}

function embed(value: unknown, what: string, inner: (v: unknown) => unknown): Embedded {
  return new Embedded(inner(decodeWrapped(value, what)));
}

function mapValues(map: CborMap, f: (key: unknown, value: unknown) => unknown): CborMap {
  return new Map([...map].map(([k, v]) => [k, f(k, v)]));
}

function parameters(map: unknown): unknown {
  return mapValues(expectMap(map, 'parameters'), (k, v) =>
    k === PARAM_IMAGE_DIGEST && Buffer.isBuffer(v) ? embed(v, 'image-digest', (d) => d) : v,
  );
}

function sequence(schema: SuitSchema, value: unknown): unknown {
  const items = expectArray(value, 'command sequence');
  return items.map((item, i) => {
    if (i % 2 === 0) return item;
    const command = items[i - 1];
    if (command === schema.tryEach) {
      return expectArray(item, 'try-each').map((b) =>
        embed(b, 'try-each branch', (s) => sequence(schema, s)),
      );
    }
    if (command === schema.runSequence) return embed(item, 'run-sequence', (s) => sequence(schema, s));
    if (typeof command === 'number' && schema.parameterDirectives.includes(command)) return parameters(item);
    return item;
  });
}

/** A manifest member that is a sequence, or a SUIT_Digest standing for a severed one. */
function severable(value: unknown, what: string, inner: (v: unknown) => unknown): unknown {
  return Buffer.isBuffer(value) ? embed(value, what, inner) : value;
}

function manifest(schema: SuitSchema, value: unknown): unknown {
  const sequences = new Map(schema.manifestSequences);
  return mapValues(expectMap(value, 'manifest'), (k, v) => {
    if (k === MANIFEST_COMMON) {
      return embed(v, 'common', (c) =>
        mapValues(expectMap(c, 'common'), (ck, cv) =>
          ck === COMMON_SEQUENCE ? embed(cv, 'common-sequence', (s) => sequence(schema, s)) : cv,
        ),
      );
    }
    const name = typeof k === 'number' ? sequences.get(k) : undefined;
    if (name) return severable(v, name, (s) => sequence(schema, s));
    if (k === schema.manifestText) return severable(v, 'text', (t) => t);
    return v;
  });
}

function coseSign1(value: unknown, payloadIsDigest: boolean): unknown {
  if (!(value instanceof Tag)) return value;
  const [prot, unprot, payload, signature] = expectArray(value.value, 'COSE_Sign1');
  return new Tag(
    [
      Buffer.isBuffer(prot) && prot.length > 0 ? embed(prot, 'protected', (p) => p) : prot,
      unprot,
      payloadIsDigest && Buffer.isBuffer(payload) ? embed(payload, 'payload', (p) => p) : payload,
      signature,
    ],
    value.tag,
  );
}

function authWrapper(schema: SuitSchema, value: unknown): unknown {
  return embed(value, 'authentication wrapper', (a) =>
    expectArray(a, 'authentication wrapper').map((block, i) =>
      schema.authStartsWithDigest && i === 0
        ? embed(block, 'digest', (d) => d)
        : embed(block, 'auth block', (c) => coseSign1(c, !schema.authStartsWithDigest)),
    ),
  );
}

export function decodeEnvelopeTree(bytes: Uint8Array): EnvelopeTree {
  const { schema, envelope } = detectFormat(bytes);
  const envelopeSequences = new Map(Object.entries(schema.envelopeSequences).map(([k, v]) => [Number(k), v]));
  const map = mapValues(envelope, (k, v) => {
    if (k === ENVELOPE_AUTH) return authWrapper(schema, v);
    if (k === ENVELOPE_MANIFEST) return embed(v, 'manifest', (m) => manifest(schema, m));
    const name = typeof k === 'number' ? envelopeSequences.get(k) : undefined;
    if (name && Buffer.isBuffer(v)) return embed(v, name, (s) => sequence(schema, s));
    if (k === schema.manifestText && Buffer.isBuffer(v)) return embed(v, 'text', (t) => t);
    return v;
  });
  const root = schema.envelopeTag === null ? map : new Tag(map, schema.envelopeTag);
  return { format: schema.format, schema, root };
}

export function encodeEnvelopeTree(tree: EnvelopeTree): Buffer {
  return encodeCbor(tree.root);
}
