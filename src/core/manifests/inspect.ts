import { Embedded, Tag } from './cbor.js';
import { COSE_ALG } from './cose-sign1.js';
import { hashName } from './digest.js';
import {
  COMMON_COMPONENTS,
  COMMON_SEQUENCE,
  ENVELOPE_AUTH,
  ENVELOPE_MANIFEST,
  MANIFEST_COMMON,
  PARAM_CLASS_ID,
  PARAM_IMAGE_DIGEST,
  PARAM_VENDOR_ID,
  type SuitSchema,
} from './schema.js';
import { decodeEnvelopeTree } from './tree.js';
import { formatUuid } from './uuid.js';

/** Plain JSON-able data: what `updraft manifest inspect` prints. */
export type Inspected = null | boolean | number | string | Inspected[] | { [key: string]: Inspected };

const COSE_ALG_NAMES = new Map<unknown, string>([
  [COSE_ALG.ed25519, 'EdDSA'],
  [COSE_ALG.es256, 'ES256'],
]);

function unwrap(v: unknown): unknown {
  return v instanceof Embedded ? v.value : v;
}

function plain(v: unknown): Inspected {
  const u = unwrap(v);
  if (Buffer.isBuffer(u)) return u.toString('hex');
  if (Array.isArray(u)) return u.map(plain);
  if (u instanceof Map) return Object.fromEntries([...u].map(([k, val]) => [String(k), plain(val)]));
  if (u instanceof Tag) return { tag: u.tag, value: plain(u.value) };
  if (typeof u === 'bigint') return u.toString();
  if (u === undefined) return null;
  return u as Inspected;
}

function named(
  map: unknown,
  names: Record<number, string>,
  render: (k: unknown, v: unknown) => Inspected,
): Inspected {
  const u = unwrap(map);
  if (!(u instanceof Map)) return plain(u);
  return Object.fromEntries(
    [...u].map(([k, v]) => [typeof k === 'number' ? (names[k] ?? String(k)) : String(k), render(k, v)]),
  );
}

function digest(schema: SuitSchema, v: unknown): Inspected {
  const d = unwrap(v);
  if (!Array.isArray(d) || typeof d[0] !== 'number') return plain(d);
  return { algorithm: hashName(schema.format, d[0]), bytes: plain(d[1]) };
}

function parameters(schema: SuitSchema, v: unknown): Inspected {
  return named(v, schema.parameters, (k, val) => {
    if (k === PARAM_IMAGE_DIGEST) return digest(schema, val);
    if ((k === PARAM_VENDOR_ID || k === PARAM_CLASS_ID) && Buffer.isBuffer(val) && val.length === 16) {
      return formatUuid(val);
    }
    return plain(val);
  });
}

function sequence(schema: SuitSchema, v: unknown): Inspected {
  const items = unwrap(v);
  if (!Array.isArray(items)) return digest(schema, items);
  const out: Inspected[] = [];
  for (let i = 0; i + 1 < items.length; i += 2) {
    const command = items[i];
    const arg = items[i + 1];
    const name =
      typeof command === 'number' ? (schema.commands[command] ?? `command-${command}`) : String(command);
    let rendered: Inspected;
    if (command === schema.tryEach && Array.isArray(arg)) rendered = arg.map((b) => sequence(schema, b));
    else if (command === schema.runSequence) rendered = sequence(schema, arg);
    else if (typeof command === 'number' && schema.parameterDirectives.includes(command)) {
      rendered = parameters(schema, arg);
    } else rendered = plain(arg);
    out.push({ [name]: rendered });
  }
  return out;
}

function manifest(schema: SuitSchema, v: unknown): Inspected {
  const sequences = new Map(schema.manifestSequences);
  return named(v, schema.manifestNames, (k, val) => {
    if (k === MANIFEST_COMMON) {
      return named(
        val,
        { [COMMON_COMPONENTS]: 'components', [COMMON_SEQUENCE]: 'common-sequence' },
        (ck, cv) => (ck === COMMON_SEQUENCE ? sequence(schema, cv) : plain(cv)),
      );
    }
    const severable = (typeof k === 'number' && sequences.has(k)) || k === schema.manifestText;
    // A severed member leaves only its digest in the manifest (spec §5).
    if (severable && !(val instanceof Embedded)) return { severed: digest(schema, val) };
    if (k === schema.manifestText) return plain(val);
    if (severable) return sequence(schema, val);
    return plain(val);
  });
}

function cose(schema: SuitSchema, v: unknown): Inspected {
  const tagged = unwrap(v);
  if (!(tagged instanceof Tag) || !Array.isArray(tagged.value)) return plain(tagged);
  const [prot, unprot, payload, signature] = tagged.value as unknown[];
  const protMap = unwrap(prot);
  const alg = protMap instanceof Map ? protMap.get(1) : undefined;
  return {
    type: tagged.tag === 18 ? 'COSE_Sign1' : `COSE tag ${tagged.tag}`,
    alg: COSE_ALG_NAMES.get(alg) ?? plain(alg),
    protected: plain(prot),
    unprotected: plain(unprot),
    payload: payload instanceof Embedded ? digest(schema, payload) : plain(payload),
    signature: plain(signature),
  };
}

/** Decodes any envelope of either dialect into named, readable data. Throws `MANIFEST_INVALID`. */
export function inspectEnvelope(bytes: Uint8Array): { [key: string]: Inspected } {
  const { schema, root } = decodeEnvelopeTree(bytes);
  const envelope = root instanceof Tag ? root.value : root;
  const sequences = new Map(Object.entries(schema.envelopeSequences).map(([k, n]) => [Number(k), n]));
  const out: { [key: string]: Inspected } = { format: schema.format, size: bytes.length };
  for (const [k, v] of envelope as Map<unknown, unknown>) {
    if (k === ENVELOPE_AUTH) {
      const blocks = unwrap(v);
      out['authentication-wrapper'] = Array.isArray(blocks)
        ? blocks.map((b, i) => (schema.authStartsWithDigest && i === 0 ? digest(schema, b) : cose(schema, b)))
        : plain(blocks);
    } else if (k === ENVELOPE_MANIFEST) out.manifest = manifest(schema, v);
    else if (typeof k === 'number' && sequences.has(k))
      out[`${sequences.get(k)} (severed)`] = sequence(schema, v);
    else if (k === schema.manifestText) out['text (severed)'] = plain(v);
    else out[typeof k === 'string' ? `payload ${k}` : `member ${String(k)}`] = plain(v);
  }
  return out;
}

export function formatInspection(inspected: Inspected): string {
  return `${JSON.stringify(inspected, null, 2)}\n`;
}
