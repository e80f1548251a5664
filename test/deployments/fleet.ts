import { httpRequest, rawRequest } from '../support/raw-http.js';

/**
 * A fleet simulator: many devices, each speaking a real HTTP device protocol to the real server, byte for byte
 * as the device does (the full ESP8266httpUpdate header set of test/devices/esp-httpupdate.test.ts, the simple
 * polling seed's `_br_mac_` / `_br_fwv_`, ESP-AT's fixed header block with its token). A device that receives
 * an image "installs" it according to its behaviour and reports the version it then runs on the next poll.
 */
export type Behaviour =
  /** Installs and boots the new image. */
  | 'ok'
  /** Downloads, then falls back to the image it ran (a failed boot). */
  | 'fallback'
  /** Downloads, then never checks in again. */
  | 'gone';

export type Protocol = 'esp8266' | 'polling' | 'esp-at';

export interface SimDevice {
  mac: string;
  /** The registry's id for it: lowercase MAC, or the ESP-AT token's device name. */
  id: string;
  protocol: Protocol;
  product: string;
  version: string;
  behaviour: Behaviour;
  token?: string;
  /** Every version this device was served, in order. */
  served: string[];
  gone: boolean;
}

export function macOf(n: number, prefix = 0x10): string {
  const b = [0x02, prefix, (n >> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

export function device(
  n: number,
  o: {
    protocol?: Protocol;
    product: string;
    version: string;
    behaviour?: Behaviour;
    token?: string;
    id?: string;
  },
): SimDevice {
  const mac = macOf(n);
  return {
    mac,
    id: o.id ?? mac.toLowerCase(),
    protocol: o.protocol ?? 'esp8266',
    product: o.product,
    version: o.version,
    behaviour: o.behaviour ?? 'ok',
    token: o.token,
    served: [],
    gone: false,
  };
}

function esp8266(port: number, d: SimDevice): string {
  return httpRequest([
    `GET /${d.product} HTTP/1.0`,
    `Host: 127.0.0.1:${port}`,
    'User-Agent: ESP8266-http-Update',
    'Connection: close',
    'x-ESP8266-Chip-ID: 15602487',
    `x-ESP8266-STA-MAC: ${d.mac}`,
    `x-ESP8266-AP-MAC: ${d.mac}`,
    'x-ESP8266-free-space: 4194304',
    'x-ESP8266-sketch-size: 400000',
    'x-ESP8266-sketch-md5: 00112233445566778899aabbccddeeff',
    'x-ESP8266-chip-size: 4194304',
    'x-ESP8266-sdk-version: 2.5.0',
    'x-ESP8266-mode: sketch',
    `x-ESP8266-version: ${d.version}`,
    'Content-Length: 0',
  ]);
}

const polling = (port: number, d: SimDevice, path: string, version: string) =>
  httpRequest([
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Connection: close',
    `_br_mac_: ${d.mac}`,
    `_br_fwv_: ${version}`,
  ]);

const atHeaders = (port: number, d: SimDevice, line: string) =>
  httpRequest([
    line,
    `Host: 127.0.0.1:${port}`,
    'Connection: keep-alive',
    'Cache-Control: no-cache',
    'User-Agent: Mozilla/5.0 (Windows NT 5.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/30.0.1599.101 Safari/537.36 ',
    'Accept: */*',
    `Authorization: token ${d.token ?? ''}`,
    'Accept-Encoding: gzip,deflate,sdch',
    'Accept-Language: zh-CN,zh;q=0.8',
  ]);

/** What happened on one poll. */
export type PollResult = 'none' | 'updated' | 'gone';

function install(d: SimDevice, version: string): PollResult {
  d.served.push(version);
  if (d.behaviour === 'ok') d.version = version;
  if (d.behaviour === 'gone') d.gone = true;
  return d.gone ? 'gone' : 'updated';
}

/** One check-in of one device through its protocol; a served image is installed per its behaviour. */
export async function poll(port: number, d: SimDevice): Promise<PollResult> {
  if (d.gone) return 'gone';
  if (d.protocol === 'esp8266') {
    const res = await rawRequest(port, esp8266(port, d));
    if (res.status === 304) return 'none';
    if (res.status !== 200) throw new Error(`ESP8266 ${d.mac}: ${res.statusLine}`);
    if (res.body.length !== Number(res.headers['content-length'])) throw new Error('short image');
    return install(d, res.headers['x-version'] as string);
  }
  if (d.protocol === 'polling') {
    const v = await rawRequest(port, polling(port, d, '/version.txt', d.version));
    if (v.status !== 200) throw new Error(`polling ${d.mac}: ${v.statusLine}`);
    const target = v.body.toString().trim();
    if (target === d.version) return 'none';
    const img = await rawRequest(port, polling(port, d, '/firmware.bin', target));
    if (img.status === 204) return 'none';
    if (img.status !== 200) throw new Error(`polling ${d.mac} firmware.bin: ${img.statusLine}`);
    return install(d, target);
  }
  const q = await rawRequest(port, atHeaders(port, d, 'GET /v1/device/rom/?is_format_simple=true HTTP/1.0'));
  if (q.status === 404) return 'none';
  if (q.status !== 200) throw new Error(`ESP-AT ${d.id}: ${q.statusLine}`);
  const target = (JSON.parse(q.body.toString()) as { rom_version: string }).rom_version;
  if (target === d.version) return 'none';
  const img = await rawRequest(
    port,
    atHeaders(port, d, `GET /v1/device/rom/?action=download_rom&version=${target}&filename=ota.bin HTTP/1.1`),
  );
  if (img.status !== 200) throw new Error(`ESP-AT ${d.id} download: ${img.statusLine}`);
  return install(d, target);
}

/** Every device polls once, `concurrency` at a time. */
export async function round(port: number, devices: SimDevice[], concurrency = 16): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < devices.length; i = next++) await poll(port, devices[i] as SimDevice);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, devices.length) }, worker));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
