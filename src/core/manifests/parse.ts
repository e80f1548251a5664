import type { KeyObject } from 'node:crypto';
import { detectFormat, type ParsedEnvelope } from './envelope.js';
import { parseIetfEnvelope, signIetfEnvelope } from './suit-ietf.js';
import { parseRiotEnvelope, signRiotEnvelope } from './suit-riot09.js';

/** Decodes either dialect; throws `MANIFEST_INVALID` when the bytes are not a well-formed SUIT envelope. */
export function parseEnvelope(bytes: Uint8Array): ParsedEnvelope {
  const { schema, envelope } = detectFormat(bytes);
  return schema.format === 'ietf-37' ? parseIetfEnvelope(envelope) : parseRiotEnvelope(envelope);
}

/**
 * Signs an envelope in its own dialect: draft-37 gets a fresh `[digest, COSE_Sign1(detached)]` wrapper, RIOT's
 * draft-09 one more attached COSE_Sign1 appended, as `suit-tool sign` does. Key: Ed25519 or P-256.
 */
export function signEnvelope(bytes: Uint8Array, privateKey: KeyObject): Buffer {
  const parsed = parseEnvelope(bytes);
  return parsed.format === 'ietf-37'
    ? signIetfEnvelope(parsed, privateKey)
    : signRiotEnvelope(parsed, privateKey);
}
