// Signed updates at publish time: the release processors, and what the API shows of a release's manifest.
import type { ReleaseProcessor } from '../catalog/release-service.js';
import { createEspSigningProcessor, type EspSigningProcessorDeps } from './esp-processor.js';
import { createSuitProcessor, type SuitProcessorDeps } from './suit-processor.js';
import { createEspAppDigestProcessor } from './esp-app-digest.js';

export { createEspSigningProcessor, ESP_APP_IMAGES } from './esp-processor.js';
export { createSuitProcessor, MANIFEST_CONTENT_TYPE, suitSequenceKey } from './suit-processor.js';
export { findManifestArtifact, isManifestName, manifestArtifactName, slotOf } from './artifact-names.js';
export { describeManifest, type ManifestView } from './manifest-view.js';
export {
  espSigningSettings,
  suitSettings,
  RIOTBOOT_LEN_DEFAULT,
  type EspSigningSettings,
  type SuitSettings,
} from './product-settings.js';

/**
 * The processors, in order: SUIT (RIOT products), ESP image signing (products with espSigning), then the ESP32
 * app-image digest of the file that will be served.
 */
export function createSigningProcessors(
  deps: SuitProcessorDeps & EspSigningProcessorDeps,
): ReleaseProcessor[] {
  return [createSuitProcessor(deps), createEspSigningProcessor(deps), createEspAppDigestProcessor(deps)];
}
