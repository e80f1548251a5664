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
] as const;

/**
 * Every header name read, spelled once per family (the lowercase keys Node gives) and once as the client
 * sends it (for error messages): the check-in path builds no header name per request.
 */
function namesOf(family: EspFamily) {
  const lower = (name: string) => `x-${family}-${name}`;
  return {
    mode: lower('mode'),
    macs: (['sta-mac', 'base-mac', 'ap-mac'] as const).map((name) => ({
      key: lower(name),
      spelled: `x-${family === 'esp8266' ? 'ESP8266' : 'ESP32'}-${name.toUpperCase()}`,
    })),
    modeSpelled: `x-${family === 'esp8266' ? 'ESP8266' : 'ESP32'}-mode`,
    md5: lower('sketch-md5'),
    sha256: lower('sketch-sha256'),
    free: lower('free-space'),
    version: lower('version'),
    attributes: ATTRIBUTES.map((name) => [name, lower(name)] as const),
  };
}
const NAMES = { esp8266: namesOf('esp8266'), esp32: namesOf('esp32') };

function familyOf(headers: IncomingHttpHeaders): EspFamily | undefined {
  let family: EspFamily | undefined;
  // `for…in` rather than Object.keys: no array of names per request.
  for (const name in headers) {
    if (name.startsWith('x-esp8266-')) return 'esp8266';
    if (name.startsWith('x-esp32-')) family = 'esp32';
  }
  return family;
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const DIGITS = /^\d{1,15}$/;

/**
 * Parses the headers. Undefined when the request carries no ESP header at all; `{ error }` for a header a
 * device could not have sent (a malformed MAC, an unknown mode).
 */
export function parseEspRequest(headers: IncomingHttpHeaders): EspRequest | { error: string } | undefined {
  const family = familyOf(headers);
  if (!family) return undefined;
  const names = NAMES[family];
  const header = (key: string): string | undefined => {
    const value = headers[key];
    return typeof value === 'string' ? value.trim() : undefined;
  };

  const mode = (header(names.mode) ?? 'sketch').toLowerCase() as EspMode;
  if (!MODES[family].includes(mode)) {
    return { error: `${names.modeSpelled} must be one of ${MODES[family].join(', ')}` };
  }

  let deviceId: string | undefined;
  for (const { key, spelled } of names.macs) {
    const raw = header(key);
    if (raw === undefined || raw === '') continue;
    deviceId = normalizeMac(raw);
    if (!deviceId) return { error: `${spelled} is not a MAC address` };
    break;
  }

  const md5 = header(names.md5)?.toLowerCase();
  const sha256 = header(names.sha256)?.toLowerCase();
  const free = header(names.free);
  const version = header(names.version);
  // Only the sketch is compared with what runs and with the free sketch space; a filesystem image is not.
  const sketch = mode === 'sketch';
  const report: DeviceReport = {
    version: version || undefined,
    imageMd5: sketch && md5 && HEX32.test(md5) ? md5 : undefined,
    imageSha256: sketch && sha256 && HEX64.test(sha256) ? sha256 : undefined,
    freeSpace: sketch && free && DIGITS.test(free) ? Number(free) : undefined,
  };

  const attributes: Record<string, string> = {};
  for (const [name, key] of names.attributes) {
    const value = header(key);
    if (value) attributes[name] = value.length > 128 ? value.slice(0, 128) : value;
  }
  return { family, mode, deviceId, report, attributes };
}
