import type { KeyObject } from 'node:crypto';
import { DomainError, isDomainError } from '../errors.js';
import { decodeCbor, encodeCbor, expectBytes } from './cbor.js';
import { extractComponents, type ManifestComponent } from './components.js';
import { verifyCoseSign1 } from './cose-sign1.js';
import {
  SHA256_ID,
  computeDigest,
  digestMatches,
  hashName,
  parseSuitDigest,
  type SuitDigest,
  type SuitFormat,
} from './digest.js';
import { manifestDigestInput, type ParsedEnvelope } from './envelope.js';
import { loadPublicKey } from './keys.js';
import { parseEnvelope } from './parse.js';
import { formatUuid } from './uuid.js';

export type VerifyErrorCode = 'MANIFEST_INVALID' | 'SIGNATURE_INVALID' | 'DIGEST_MISMATCH';

export interface VerifyError {
  code: VerifyErrorCode;
  message: string;
}

export interface VerifiedComponent {
  index: number;
  id: string;
  /** What `images` keys match, besides the URI's file name: `"0"`, or `"0@4096"` for one of several slots. */
  key: string;
  offset: number | null;
  size: number | null;
  digestAlgorithm: string | null;
  /** Hex. */
  digest: string | null;
  uri: string | null;
  vendorId: string | null;
  classId: string | null;
}

export interface VerifyResult {
  ok: boolean;
  format: SuitFormat | null;
  sequenceNumber: number | null;
  components: VerifiedComponent[];
  errors: VerifyError[];
}

/** An image's bytes, or a digest computed elsewhere (e.g. the sha256 stored with an artifact). */
export type ImageEvidence = Uint8Array | SuitDigest;

export interface VerifyOptions {
  trustedKeys: ReadonlyArray<KeyObject | string | Buffer>;
  /** Keyed by component `key` or by the file name at the end of the component URI. */
  images?: ReadonlyMap<string, ImageEvidence> | Readonly<Record<string, ImageEvidence>>;
}

function checkAuthentication(parsed: ParsedEnvelope, keys: KeyObject[], errors: VerifyError[]): void {
  const digestInput = manifestDigestInput(parsed);
  if (parsed.signatures.length === 0) {
    errors.push({ code: 'SIGNATURE_INVALID', message: 'the envelope carries no signature' });
  }
  if (parsed.authDigest) {
    if (!digestMatches('ietf-37', parsed.authDigest, digestInput)) {
      errors.push({
        code: 'DIGEST_MISMATCH',
        message: 'manifest digest does not match the authentication wrapper',
      });
    }
    if (parsed.signatures.length > 0) {
      const payload = parsed.authDigestBytes ?? undefined;
      const results = parsed.signatures.map((sig) => verifyCoseSign1(sig, keys, payload));
      if (!results.some((r) => r.ok)) {
        errors.push({ code: 'SIGNATURE_INVALID', message: 'no COSE signature verifies with a trusted key' });
      }
    }
    return;
  }
  // Draft-09: the signed payload is the digest; a good signature over a stale digest is the tampering case.
  let verified = false;
  let digestOk = false;
  for (const sig of parsed.signatures) {
    const result = verifyCoseSign1(sig, keys);
    if (!result.ok) continue;
    verified = true;
    const signed = parseSuitDigest(decodeCbor(result.payload, 'signed digest'), 'signed digest');
    if (digestMatches('riot-09', signed, digestInput)) digestOk = true;
  }
  if (parsed.signatures.length > 0 && !verified) {
    errors.push({ code: 'SIGNATURE_INVALID', message: 'no COSE signature verifies with a trusted key' });
  }
  if (verified && !digestOk) {
    errors.push({ code: 'DIGEST_MISMATCH', message: 'manifest digest does not match the signed digest' });
  }
}

/** A severed member travels in the envelope; the manifest keeps its digest (spec §5, draft-37 "Severable"). */
function checkSevered(parsed: ParsedEnvelope, errors: VerifyError[]): void {
  for (const [key, name] of parsed.schema.manifestSequences.concat([[parsed.schema.manifestText, 'text']])) {
    const inManifest = parsed.manifest.get(key);
    const inEnvelope = parsed.envelope.get(key);
    if (!Array.isArray(inManifest) || inEnvelope === undefined) continue;
    const expected = parseSuitDigest(inManifest, name);
    if (!digestMatches(parsed.format, expected, encodeCbor(expectBytes(inEnvelope, name)))) {
      errors.push({
        code: 'DIGEST_MISMATCH',
        message: `severed ${name} does not match its digest in the manifest`,
      });
    }
  }
}

function view(c: ManifestComponent, format: SuitFormat): VerifiedComponent {
  return {
    index: c.index,
    id: c.id,
    key: c.key,
    offset: c.offset,
    size: c.size,
    digestAlgorithm: c.digest ? hashName(format, c.digest.algorithm) : null,
    digest: c.digest ? c.digest.bytes.toString('hex') : null,
    uri: c.uri,
    vendorId: c.vendorId ? formatUuid(c.vendorId) : null,
    classId: c.classId ? formatUuid(c.classId) : null,
  };
}

function evidenceFor(
  images: Map<string, ImageEvidence>,
  c: ManifestComponent,
): { name: string; evidence: ImageEvidence } | null {
  const basename = c.uri ? c.uri.slice(c.uri.lastIndexOf('/') + 1) : null;
  for (const name of [c.key, basename]) {
    const evidence = name === null ? undefined : images.get(name);
    if (evidence !== undefined && name !== null) return { name, evidence };
  }
  return null;
}

function checkImages(
  format: SuitFormat,
  components: ManifestComponent[],
  images: Map<string, ImageEvidence>,
  errors: VerifyError[],
): void {
  const used = new Set<string>();
  for (const c of components) {
    const found = evidenceFor(images, c);
    if (!found) {
      errors.push({ code: 'DIGEST_MISMATCH', message: `no image supplied for component ${c.key}` });
      continue;
    }
    used.add(found.name);
    if (!c.digest) {
      errors.push({ code: 'MANIFEST_INVALID', message: `component ${c.key} has no image-digest` });
      continue;
    }
    const { evidence } = found;
    const matches =
      evidence instanceof Uint8Array
        ? digestMatches(format, c.digest, evidence)
        : evidence.algorithm === c.digest.algorithm && evidence.bytes.equals(c.digest.bytes);
    if (!matches) {
      errors.push({
        code: 'DIGEST_MISMATCH',
        message: `image ${found.name} does not match component ${c.key}`,
      });
    }
    if (evidence instanceof Uint8Array && c.size !== null && evidence.length !== c.size) {
      errors.push({
        code: 'DIGEST_MISMATCH',
        message: `image ${found.name} is ${evidence.length} bytes, component ${c.key} says ${c.size}`,
      });
    }
  }
  for (const name of images.keys()) {
    if (!used.has(name))
      errors.push({ code: 'DIGEST_MISMATCH', message: `image ${name} matches no component` });
  }
}

/**
 * Checks everything a device would before installing: a trusted signature, the manifest digest it covers,
 * severed members, and (when images are given) every component's image digest and size. Malformed input is
 * reported in `errors`, never thrown; a bad trusted key throws `KEY_INVALID`.
 */
export function verifyEnvelope(bytes: Uint8Array, options: VerifyOptions): VerifyResult {
  const keys = options.trustedKeys.map((k) => loadPublicKey(k));
  const errors: VerifyError[] = [];
  let parsed: ParsedEnvelope;
  try {
    parsed = parseEnvelope(bytes);
  } catch (err) {
    if (!isDomainError(err)) throw err;
    return {
      ok: false,
      format: null,
      sequenceNumber: null,
      components: [],
      errors: [{ code: 'MANIFEST_INVALID', message: err.message }],
    };
  }
  let components: ManifestComponent[] = [];
  try {
    checkAuthentication(parsed, keys, errors);
    checkSevered(parsed, errors);
    components = extractComponents(parsed);
    if (options.images) {
      const images = options.images instanceof Map ? options.images : new Map(Object.entries(options.images));
      checkImages(parsed.format, components, images, errors);
    }
  } catch (err) {
    if (!isDomainError(err)) throw err;
    errors.push({ code: 'MANIFEST_INVALID', message: err.message });
  }
  return {
    ok: errors.length === 0,
    format: parsed.format,
    sequenceNumber: parsed.sequenceNumber,
    components: components.map((c) => view(c, parsed.format)),
    errors,
  };
}

/** For flows that must refuse a bad manifest: throws the first problem as a DomainError. */
export function assertEnvelopeValid(bytes: Uint8Array, options: VerifyOptions): VerifyResult {
  const result = verifyEnvelope(bytes, options);
  const first = result.errors[0];
  if (first) throw new DomainError(first.code, first.message, { errors: result.errors });
  return result;
}

/** The SHA-256 SUIT_Digest of an image, in the numbering of the given draft. */
export function imageDigest(format: SuitFormat, image: Uint8Array): SuitDigest {
  return computeDigest(format, SHA256_ID[format], image);
}
