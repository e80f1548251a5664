/**
 * The header set the esp8266 core's ESP8266httpUpdate sends in sketch mode (ESP8266httpUpdate.cpp,
 * `handleUpdate`), for a device with this STA MAC running `version`; its AP MAC is the STA MAC with the
 * locally-administered bit set, as on the real chip.
 */
export function esp8266SketchHeaders(staMac: string, version: string): Record<string, string> {
  const first = parseInt(staMac.slice(0, 2), 16) | 0x02;
  return {
    'User-Agent': 'ESP8266-http-Update',
    'x-ESP8266-STA-MAC': staMac,
    'x-ESP8266-AP-MAC': first.toString(16).toUpperCase().padStart(2, '0') + staMac.slice(2),
    'x-ESP8266-free-space': '1000000',
    'x-ESP8266-sketch-size': '300000',
    'x-ESP8266-sketch-md5': '0'.repeat(32),
    'x-ESP8266-chip-size': '4194304',
    'x-ESP8266-sdk-version': '2.2.1',
    'x-ESP8266-mode': 'sketch',
    'x-ESP8266-version': version,
  };
}
