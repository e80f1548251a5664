import type { KeyObject } from 'node:crypto';
import { DomainError } from '../errors.js';
import {
  canonicalMap,
  decodeCbor,
  decodeWrapped,
  encodeCbor,
  expectArray,
  expectBytes,
  type CborMap,
} from './cbor.js';
import { coseSign1Value, parseCoseSign1, signCoseSign1 } from './cose-sign1.js';
import { SHA256_ID, computeDigest, suitDigestValue } from './digest.js';
import { manifestDigestInput, parseManifest, type ParsedEnvelope } from './envelope.js';
import { ENVELOPE_AUTH, ENVELOPE_MANIFEST, RIOT_09 } from './schema.js';

/**
 * RIOT's draft-09 dialect (device-protocols.md §4.3, RIOT `sys/suit/handlers_envelope.c`): an untagged map
 * `{ 2: bstr .cbor [ * bstr .cbor COSE_Sign1_Tagged ], 3: bstr .cbor manifest }`. Each COSE_Sign1 carries the
 * encoded SUIT_Digest `[2, sha256]` as an attached payload; the digest is the only link to the manifest, so the
 * verifier must recompute it (a signature alone does not cover the manifest).
 */
export function parseRiotEnvelope(envelope: CborMap): ParsedEnvelope {
  const authRaw = envelope.get(ENVELOPE_AUTH);
  const blocks =
    authRaw === undefined
      ? []
      : expectArray(decodeCbor(expectBytes(authRaw, 'authentication wrapper'), 'auth'), 'auth');
  const signatures = blocks.map((block, i) =>
    parseCoseSign1(decodeWrapped(block, `auth block ${i}`), `auth block ${i}`),
  );
  for (const [i, sig] of signatures.entries()) {
    if (sig.payload === null) {
      throw new DomainError(
        'MANIFEST_INVALID',
        `auth block ${i}: draft-09 COSE_Sign1 needs an attached payload`,
      );
    }
  }
  return {
    format: 'riot-09',
    schema: RIOT_09,
    envelope,
    ...parseManifest(envelope),
    authDigest: null,
    authDigestBytes: null,
    signatures,
  };
}

/** The unsigned envelope `suit-tool create` writes: an empty authentication wrapper, then the manifest. */
export function riotEnvelopeForManifest(manifestBytes: Buffer): Buffer {
  return encodeCbor(
    canonicalMap([
      [ENVELOPE_AUTH, encodeCbor([])],
      [ENVELOPE_MANIFEST, manifestBytes],
    ]),
  );
}

/**
 * What `suit-tool sign` does (RIOT dist/tools/suit/suit-manifest-generator/suit_tool/sign.py): digest the
 * bstr-wrapped manifest with SHA-256, sign `["Signature1", bstr({1: alg}), h'', bstr(SUIT_Digest)]`, append the
 * COSE_Sign1 to the existing wrapper and write the envelope in canonical order. RIOT devices verify EdDSA only.
 */
export function signRiotEnvelope(parsed: ParsedEnvelope, privateKey: KeyObject): Buffer {
  const digest = computeDigest('riot-09', SHA256_ID['riot-09'], manifestDigestInput(parsed));
  const payload = encodeCbor(suitDigestValue(digest));
  const cose = signCoseSign1({ privateKey, payload, detached: false });
  const existing = parsed.signatures.map((s) => encodeCbor(coseSign1Value(s)));
  const auth = encodeCbor([...existing, encodeCbor(coseSign1Value(cose))]);
  const members = [...parsed.envelope].filter(([k]) => k !== ENVELOPE_AUTH) as Array<[number, unknown]>;
  return encodeCbor(canonicalMap([[ENVELOPE_AUTH, auth], ...members]));
}
