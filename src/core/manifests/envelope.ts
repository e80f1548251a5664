import { DomainError } from '../errors.js';
import { Tag, decodeCbor, encodeCbor, expectBytes, expectInt, expectMap, type CborMap } from './cbor.js';
import type { CoseSign1 } from './cose-sign1.js';
import type { SuitDigest, SuitFormat } from './digest.js';
import {
  ENVELOPE_MANIFEST,
  IETF_37,
  MANIFEST_SEQUENCE_NUMBER,
  MANIFEST_VERSION,
  RIOT_09,
  type SuitSchema,
} from './schema.js';

/** An envelope decoded far enough to check its authentication; command sequences stay encoded. */
export interface ParsedEnvelope {
  format: SuitFormat;
  schema: SuitSchema;
  envelope: CborMap;
  /** The content of the envelope's manifest bstr. */
  manifestBytes: Buffer;
  manifest: CborMap;
  sequenceNumber: number;
  /** Draft-37 only: the SUIT_Digest leading the authentication wrapper, and its bytes as signed. */
  authDigest: SuitDigest | null;
  authDigestBytes: Buffer | null;
  signatures: CoseSign1[];
}

/**
 * What both drafts digest and sign: the manifest **with** its bstr header (draft-37 "Authenticated Manifests";
 * RIOT `sign.py` hashes `cbor.dumps(wrapper[3])`, and the device `handlers_envelope.c _manifest_handler` hashes
 * the whole sub-CBOR). Re-encoding the bstr gives the sender's bytes because CBOR heads are minimal
 * (RFC 8949 §4.2.1), which is what both generators emit.
 */
export function manifestDigestInput(parsed: Pick<ParsedEnvelope, 'manifestBytes'>): Buffer {
  return encodeCbor(parsed.manifestBytes);
}

export function parseManifest(
  envelope: CborMap,
): Pick<ParsedEnvelope, 'manifestBytes' | 'manifest' | 'sequenceNumber'> {
  const raw = envelope.get(ENVELOPE_MANIFEST);
  if (raw === undefined) throw new DomainError('MANIFEST_INVALID', 'envelope has no manifest (key 3)');
  const manifestBytes = expectBytes(raw, 'manifest');
  const manifest = expectMap(decodeCbor(manifestBytes, 'manifest'), 'manifest');
  const version = expectInt(manifest.get(MANIFEST_VERSION), 'manifest-version');
  if (version !== 1) throw new DomainError('MANIFEST_INVALID', `manifest-version ${version}, expected 1`);
  const sequenceNumber = expectInt(manifest.get(MANIFEST_SEQUENCE_NUMBER), 'manifest-sequence-number');
  if (sequenceNumber < 0) throw new DomainError('MANIFEST_INVALID', 'manifest-sequence-number is negative');
  return { manifestBytes, manifest, sequenceNumber };
}

/** Tells the dialects apart by their outermost item: #6.107 (draft-37) or a bare map (RIOT's draft-09). */
export function detectFormat(bytes: Uint8Array): { schema: SuitSchema; envelope: CborMap } {
  const top = decodeCbor(bytes, 'SUIT envelope');
  if (top instanceof Tag) {
    if (top.tag !== IETF_37.envelopeTag) {
      throw new DomainError('MANIFEST_INVALID', `SUIT envelope: unexpected CBOR tag ${top.tag}`);
    }
    return { schema: IETF_37, envelope: expectMap(top.value, 'SUIT envelope') };
  }
  return { schema: RIOT_09, envelope: expectMap(top, 'SUIT envelope') };
}
