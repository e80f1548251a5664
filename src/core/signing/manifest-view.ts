import { DomainError } from '../errors.js';
import {
  inspectEnvelope,
  verifyEnvelope,
  type Inspected,
  type VerifiedComponent,
} from '../manifests/index.js';

export interface ManifestView {
  format: string | null;
  sequenceNumber: number | null;
  size: number;
  /** Per component: offset, size, digest, URI, vendor and class ids. */
  components: VerifiedComponent[];
  /** The whole envelope decoded with names, as `updraft manifest inspect --json` prints it. */
  envelope: Inspected;
}

/** A decoded manifest for display. The signature is not checked here: that needs the product's keys. */
export function describeManifest(bytes: Uint8Array): ManifestView {
  const decoded = verifyEnvelope(bytes, { trustedKeys: [] });
  if (decoded.format === null) {
    throw new DomainError('MANIFEST_INVALID', decoded.errors[0]?.message ?? 'not a SUIT envelope');
  }
  return {
    format: decoded.format,
    sequenceNumber: decoded.sequenceNumber,
    size: bytes.length,
    components: decoded.components,
    envelope: inspectEnvelope(bytes),
  };
}
