import type { KeyObject } from 'node:crypto';
import { DomainError } from '../errors.js';
import {
  Tag,
  decodeCbor,
  decodeWrapped,
  encodeCbor,
  expectArray,
  expectBytes,
  type CborMap,
} from './cbor.js';
import { coseSign1Value, parseCoseSign1, signCoseSign1, type CoseSign1 } from './cose-sign1.js';
import { SHA256_ID, computeDigest, parseSuitDigest, suitDigestValue } from './digest.js';
import { manifestDigestInput, parseManifest, type ParsedEnvelope } from './envelope.js';
import { ENVELOPE_AUTH, ENVELOPE_MANIFEST, IETF_37 } from './schema.js';

const IETF_ENVELOPE_TAG = 107;

/**
 * draft-ietf-suit-manifest-37 (device-protocols.md §5): `#6.107({ 2: bstr .cbor [ bstr .cbor SUIT_Digest,
 * * bstr .cbor COSE_Sign1_Tagged ], 3: bstr .cbor SUIT_Manifest, ... })`. The COSE objects sign the encoded
 * SUIT_Digest as a detached payload (section "Authenticated Manifests").
 */
export function parseIetfEnvelope(envelope: CborMap): ParsedEnvelope {
  const authRaw = envelope.get(ENVELOPE_AUTH);
  if (authRaw === undefined)
    throw new DomainError('MANIFEST_INVALID', 'envelope has no authentication wrapper');
  const keys = [...envelope.keys()];
  // The wrapper must come first so a streaming parser has the digest before the manifest (spec §5).
  if (keys.indexOf(ENVELOPE_AUTH) > keys.indexOf(ENVELOPE_MANIFEST)) {
    throw new DomainError('MANIFEST_INVALID', 'authentication wrapper must precede the manifest');
  }
  const auth = expectArray(decodeCbor(expectBytes(authRaw, 'authentication wrapper'), 'auth'), 'auth');
  const [digestRaw, ...blocks] = auth;
  if (digestRaw === undefined) throw new DomainError('MANIFEST_INVALID', 'authentication wrapper is empty');
  const authDigestBytes = expectBytes(digestRaw, 'authentication digest');
  const authDigest = parseSuitDigest(
    decodeCbor(authDigestBytes, 'authentication digest'),
    'authentication digest',
  );
  const signatures: CoseSign1[] = blocks.map((block, i) =>
    parseCoseSign1(decodeWrapped(block, `auth block ${i}`), `auth block ${i}`),
  );
  return {
    format: 'ietf-37',
    schema: IETF_37,
    envelope,
    ...parseManifest(envelope),
    authDigest,
    authDigestBytes,
    signatures,
  };
}

/**
 * Signs (or re-signs) a draft-37 envelope: recomputes the SHA-256 SUIT_Digest of the bstr-wrapped manifest and
 * replaces the authentication wrapper with `[digest, COSE_Sign1(detached)]`. Other members are kept as they are.
 */
export function signIetfEnvelope(parsed: ParsedEnvelope, privateKey: KeyObject): Buffer {
  const digest = computeDigest('ietf-37', SHA256_ID['ietf-37'], manifestDigestInput(parsed));
  const digestBytes = encodeCbor(suitDigestValue(digest));
  const cose = signCoseSign1({ privateKey, payload: digestBytes, detached: true });
  const auth = encodeCbor([digestBytes, encodeCbor(coseSign1Value(cose))]);
  const members = [...parsed.envelope].filter(([k]) => k !== ENVELOPE_AUTH);
  const envelope = new Map<unknown, unknown>([[ENVELOPE_AUTH, auth], ...members]);
  return encodeCbor(new Tag(envelope, IETF_ENVELOPE_TAG));
}
