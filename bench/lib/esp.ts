import { createHash } from 'node:crypto';

/** The ESP8266httpUpdate header set (test/devices/esp-httpupdate.test.ts), for one device and version. */
export function esp8266Headers(mac: string, version: string): Record<string, string> {
  return {
    'User-Agent': 'ESP8266-http-Update',
    'x-ESP8266-Chip-ID': '15602487',
    'x-ESP8266-STA-MAC': mac,
    'x-ESP8266-AP-MAC': mac,
    'x-ESP8266-free-space': String(32 * 1024 * 1024),
    'x-ESP8266-sketch-size': '400000',
    'x-ESP8266-sketch-md5': '00112233445566778899aabbccddeeff',
    'x-ESP8266-chip-size': String(32 * 1024 * 1024),
    'x-ESP8266-sdk-version': '2.5.0',
    'x-ESP8266-mode': 'sketch',
    'x-ESP8266-version': version,
  };
}

/** Fetches once and checks status and body digest before any timing (a fast wrong answer proves nothing). */
export async function checkDownload(
  url: string,
  headers: Record<string, string>,
  sha256: string,
  wantHeaders: string[] = [],
): Promise<Headers> {
  const res = await fetch(url, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  const got = createHash('sha256').update(body).digest('hex');
  if (res.status !== 200 || got !== sha256) {
    throw new Error(`${url}: status ${res.status}, ${body.length} bytes, sha256 ${got.slice(0, 12)}…`);
  }
  for (const h of wantHeaders) {
    if (!res.headers.get(h)) throw new Error(`${url}: no ${h} header in ${JSON.stringify([...res.headers])}`);
  }
  return res.headers;
}
