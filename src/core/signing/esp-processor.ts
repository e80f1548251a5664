import { Readable } from 'node:stream';
import type { KeyObject } from 'node:crypto';
import type { ReleaseProcessor } from '../catalog/release-service.js';
import type { KeyStore } from '../keys/index.js';
import {
  signEsp32Image,
  signEsp8266Image,
  verifyEsp32Image,
  verifyEsp8266Image,
} from '../manifests/index.js';
import { readArtifactBytes, type ArtifactReader } from './artifact-bytes.js';
import { espSigningSettings, type EspSigningSettings } from './product-settings.js';

export interface EspSigningProcessorDeps {
  keys: Pick<KeyStore, 'privateKey'>;
  blobs: ArtifactReader;
}

/**
 * The application images a signing product's upload may carry. Only the app image is verified by the device
 * (ESP8266 `Updater::end()` checks U_FLASH; arduino-esp32 `Updater` likewise), so filesystem images stay as
 * they are.
 */
export const ESP_APP_IMAGES = ['firmware.bin', 'ota.bin'] as const;

function alreadySigned(image: Buffer, key: KeyObject, settings: EspSigningSettings): boolean {
  try {
    return settings.format === 'esp8266'
      ? verifyEsp8266Image(image, key).ok
      : verifyEsp32Image(image, key, settings.hash).ok;
  } catch {
    return false;
  }
}

/**
 * Signs the app image of products with `settings.espSigning`, replacing the uploaded artifact so that its size,
 * sha256, md5 (the `x-MD5` header ESP8266httpUpdate checks) and every download cover the signed file. An image
 * already signed by the product's key (the Arduino build signs when `private.key` sits beside the sketch) is
 * left alone rather than signed twice.
 */
export function createEspSigningProcessor(deps: EspSigningProcessorDeps): ReleaseProcessor {
  return async (upload, product) => {
    const settings = espSigningSettings(product);
    if (!settings) return;
    for (const name of ESP_APP_IMAGES) {
      const artifact = upload.artifacts.find((a) => a.name === name);
      if (!artifact) continue;
      const key = await deps.keys.privateKey(settings.key);
      const image = await readArtifactBytes(deps.blobs, artifact);
      if (alreadySigned(image, key, settings)) continue;
      const signed =
        settings.format === 'esp8266'
          ? signEsp8266Image(image, key)
          : signEsp32Image(image, key, settings.hash);
      upload.remove(name);
      await upload.add({ name, source: Readable.from(signed), contentType: artifact.contentType });
    }
  };
}
