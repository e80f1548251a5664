// Signed updates at publish time: the release processors, and what the API shows of a release's manifest.
import type { ReleaseProcessor } from '../catalog/release-service.js';
import { createEspSigningProcessor, type EspSigningProcessorDeps } from './esp-processor.js';
import { createSuitProcessor, type SuitProcessorDeps } from './suit-processor.js';

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

/** Both processors, in order: SUIT (RIOT products), then ESP image signing (products with espSigning). */
export function createSigningProcessors(
  deps: SuitProcessorDeps & EspSigningProcessorDeps,
): ReleaseProcessor[] {
  return [createSuitProcessor(deps), createEspSigningProcessor(deps)];
}
