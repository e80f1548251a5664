import type { TestServer } from '../support/server.js';

export interface DeviceView {
  id: string;
  product: string | null;
  version: string | null;
  lastSeen: string;
  lastUpdate: string | null;
  lastOffered: string | null;
  lastOutcome: string | null;
  protocol: string | null;
  attributes: Record<string, string>;
  history: { kind: string; version: string | null; detail: string | null }[];
}

/** The device record through the admin API (which flushes pending check-ins first); undefined on 404. */
export async function deviceRecord(server: TestServer, id: string): Promise<DeviceView | undefined> {
  const res = await server.api(`/api/v1/devices/${encodeURIComponent(id)}`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET device: ${res.status} ${await res.text()}`);
  return (await res.json()) as DeviceView;
}

/** Event kinds, oldest first (the API lists newest first). */
export const kinds = (device: DeviceView | undefined) => (device?.history ?? []).map((e) => e.kind).reverse();

export async function deviceCount(server: TestServer): Promise<number> {
  return ((await (await server.api('/api/v1/devices?limit=1000')).json()) as { total: number }).total;
}

/** A firmware image as ESP cores accept it: magic byte 0xE9 first. */
export function espImage(size: number, seed = 1): Buffer {
  const image = Buffer.alloc(size);
  for (let i = 0; i < size; i++) image[i] = (i * 31 + seed * 17) & 0xff;
  image[0] = 0xe9;
  return image;
}

export const json = { 'content-type': 'application/json' };

/**
 * Waits for a device record to satisfy `ok`: `download-completed` is recorded when the server's write ends,
 * which can be just after the client has read the last byte. Fails, showing the last record seen, when it does
 * not happen within `ms`.
 */
export async function deviceWhen(
  server: TestServer,
  id: string,
  ok: (device: DeviceView | undefined) => boolean,
  ms = 5000,
): Promise<DeviceView> {
  const deadline = Date.now() + ms;
  for (;;) {
    const device = await deviceRecord(server, id);
    if (device && ok(device)) return device;
    if (Date.now() > deadline) {
      throw new Error(`device ${id} did not reach the expected state in ${ms} ms: ${JSON.stringify(device)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
