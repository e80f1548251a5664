import type { IncomingHttpHeaders } from 'node:http';
import { normalizeMac } from '../../../../core/devices/mac.js';
import type { DeviceReport } from '../../../../core/updates/decide-update.js';

/**
 * What an ESP8266 `ESP8266httpUpdate` or arduino-esp32 `HTTPUpdate` client says about itself, read from its
 * `x-ESP8266-*` / `x-ESP32-*` headers (esp8266/Arduino ESP8266httpUpdate.cpp `handleUpdate`, arduino-esp32
 * HTTPUpdate.cpp; docs: ../shared/specs/device-protocols.md §1.1, §2.1). Node lowercases header names, so
 * the names match whatever case the client sent.
 */
export type EspFamily = 'esp8266' | 'esp32';
export type EspMode = 'sketch' | 'spiffs' | 'fatfs' | 'littlefs' | 'flashfs' | 'version';

export interface EspRequest {
  family: EspFamily;
  mode: EspMode;
  /** STA MAC (or, for chips without Wi-Fi, the base MAC), normalised; undefined when none was sent. */
  deviceId: string | undefined;
  report: DeviceReport;
  attributes: Record<string, string>;
}

// `spiffs` is also what ESP8266 cores send for LittleFS (ESP8266httpUpdate.cpp `updateFS`); 2.x ESP32 cores
// send only sketch|spiffs, 3.x add fatfs, littlefs and flashfs.
const MODES: Record<EspFamily, readonly EspMode[]> = {
  esp8266: ['sketch', 'spiffs', 'version'],
  esp32: ['sketch', 'spiffs', 'fatfs', 'littlefs', 'flashfs', 'version'],
};

const FILESYSTEM = ['filesystem.bin', 'filesystem', 'fs.bin'];

/** Artifact names each mode accepts, in order of preference (docs/protocols/http-devices.md). */
export const ARTIFACT_NAMES: Record<EspMode, readonly string[]> = {
  sketch: ['firmware.bin', 'firmware', 'sketch.bin', 'sketch'],
  version: ['firmware.bin', 'firmware', 'sketch.bin', 'sketch'],
  spiffs: ['spiffs.bin', 'spiffs', 'littlefs.bin', 'littlefs', ...FILESYSTEM],
  littlefs: ['littlefs.bin', 'littlefs', ...FILESYSTEM],
  fatfs: ['fatfs.bin', 'fatfs', ...FILESYSTEM],
  flashfs: [...FILESYSTEM, 'littlefs.bin', 'littlefs', 'fatfs.bin', 'fatfs'],
};

const ATTRIBUTES = [
  'chip-id',
  'ap-mac',
  'base-mac',
  'free-space',
  'sketch-size',
  'sketch-md5',
  'sketch-sha256',
  'chip-size',
  'sdk-version',
  'mode',
];

function familyOf(headers: IncomingHttpHeaders): EspFamily | undefined {
  let family: EspFamily | undefined;
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-esp8266-')) return 'esp8266';
    if (name.startsWith('x-esp32-')) family = 'esp32';
  }
  return family;
}

/**
 * Parses the headers. Undefined when the request carries no ESP header at all; `{ error }` for a header a
 * device could not have sent (a malformed MAC, an unknown mode).
 */
export function parseEspRequest(headers: IncomingHttpHeaders): EspRequest | { error: string } | undefined {
  const family = familyOf(headers);
  if (!family) return undefined;
  const prefix = `x-${family}-`;
  const header = (name: string): string | undefined => {
    const value = headers[prefix + name];
    return typeof value === 'string' ? value.trim() : undefined;
  };
  const headerName = (name: string) => `x-${family === 'esp8266' ? 'ESP8266' : 'ESP32'}-${name}`;

  const mode = (header('mode') ?? 'sketch').toLowerCase() as EspMode;
  if (!MODES[family].includes(mode)) {
    return { error: `${headerName('mode')} must be one of ${MODES[family].join(', ')}` };
  }

  let deviceId: string | undefined;
  for (const name of ['sta-mac', 'base-mac', 'ap-mac']) {
    const raw = header(name);
    if (raw === undefined || raw === '') continue;
    deviceId = normalizeMac(raw);
    if (!deviceId) return { error: `${headerName(name.toUpperCase())} is not a MAC address` };
    break;
  }

  const md5 = header('sketch-md5')?.toLowerCase();
  const sha256 = header('sketch-sha256')?.toLowerCase();
  const free = header('free-space');
  const version = header('version');
  // Only the sketch is compared with what runs and with the free sketch space; a filesystem image is not.
  const sketch = mode === 'sketch';
  const report: DeviceReport = {
    version: version || undefined,
    imageMd5: sketch && md5 && /^[0-9a-f]{32}$/.test(md5) ? md5 : undefined,
    imageSha256: sketch && sha256 && /^[0-9a-f]{64}$/.test(sha256) ? sha256 : undefined,
    freeSpace: sketch && free && /^\d{1,15}$/.test(free) ? Number(free) : undefined,
  };

  const attributes: Record<string, string> = {};
  for (const name of ATTRIBUTES) {
    const value = header(name);
    if (value) attributes[name] = value.slice(0, 128);
  }
  return { family, mode, deviceId, report, attributes };
}
