// The manifests feature's public surface: what the CLI and the publish flow call.
export {
  buildRiotManifest,
  buildUnsignedRiotEnvelope,
  createSignedRiotManifest,
  RIOT_MANIFEST_MAX_BYTES,
  type RiotManifestInput,
  type RiotSlotImage,
} from './riot-manifest-builder.js';
export {
  assertEnvelopeValid,
  imageDigest,
  verifyEnvelope,
  type ImageEvidence,
  type VerifiedComponent,
  type VerifyError,
  type VerifyOptions,
  type VerifyResult,
} from './verify.js';
export { formatInspection, inspectEnvelope, type Inspected } from './inspect.js';
export {
  exportPublicKey,
  generateSigningKey,
  loadPrivateKey,
  loadPublicKey,
  publicKeyCArray,
  rawPublicKey,
  type GeneratedKeyPair,
  type PublicKeyFormat,
  type SigningKeyType,
} from './keys.js';
export {
  ESP32_SIGNATURE_TRAILER,
  signEsp32Image,
  signEsp8266Image,
  verifyEsp32Image,
  verifyEsp8266Image,
  type Esp32Hash,
  type EspVerifyResult,
} from './esp-signing.js';
export { parseEnvelope, signEnvelope } from './parse.js';
export { riotClassId, riotVendorId, uuid5, formatUuid } from './uuid.js';
export type { SuitDigest, SuitFormat } from './digest.js';
