/**
 * A scripted RIOT device on loopback: a node:dgram socket that implements what RIOT's suit_update example
 * serves (device-protocols.md §4.1) — `GET /suit/slot/inactive` → `0`/`1`, `POST /suit/trigger` → 2.01 (RIOT)
 * or 2.04 (the seed's otatestnode) — and records every request it was sent.
 */
import dgram from 'node:dgram';
import { parse, serialize } from '../../src/transports/coap/codec.js';
import { Code, MessageType, methodOf } from '../../src/transports/coap/message.js';
import { getStringOptions, Opt } from '../../src/transports/coap/options.js';

export interface Received {
  type: number;
  method: string | undefined;
  path: string;
  payload: string;
  /** performance.now() at arrival. */
  at: number;
}

export interface ScriptedDevice {
  port: number;
  /** `[::1]`-style address for the notify form: here always `127.0.0.1:<port>`. */
  address: string;
  received: Received[];
  close(): Promise<void>;
}

export async function startScriptedDevice(
  options: { inactiveSlot?: 0 | 1; triggerCode?: number } = {},
): Promise<ScriptedDevice> {
  const socket = dgram.createSocket('udp4');
  const received: Received[] = [];
  socket.on('message', (data, rinfo) => {
    const parsed = parse(data);
    if (!parsed.ok) return;
    const m = parsed.message;
    const path = getStringOptions(m.options, Opt.URI_PATH).join('/');
    received.push({
      type: m.type,
      method: methodOf(m.code),
      path,
      payload: m.payload.toString('utf8'),
      at: performance.now(),
    });
    let code: number = Code.NOT_FOUND;
    let payload = Buffer.alloc(0);
    if (path === 'suit/slot/inactive' && methodOf(m.code) === 'GET') {
      code = Code.CONTENT;
      payload = Buffer.from(String(options.inactiveSlot ?? 1));
    } else if (path === 'suit/trigger' && methodOf(m.code) === 'POST') {
      code = options.triggerCode ?? Code.CREATED;
    }
    const reply = serialize({
      type: m.type === MessageType.CON ? MessageType.ACK : MessageType.NON,
      code,
      messageId: m.messageId,
      token: m.token,
      options: [],
      payload,
    });
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const port = socket.address().port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** A bound UDP port that never answers: the unreachable device. */
export async function startSilentDevice(): Promise<ScriptedDevice> {
  const socket = dgram.createSocket('udp4');
  const received: Received[] = [];
  socket.on('message', () =>
    received.push({ type: -1, method: undefined, path: '', payload: '', at: performance.now() }),
  );
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const port = socket.address().port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** The seed's multipart form: `publish_id` first, then files keyed by field name (the path as typed). */
export function seedForm(publishId: string | undefined, files: Record<string, Buffer>): FormData {
  const form = new FormData();
  if (publishId !== undefined) form.set('publish_id', publishId);
  for (const [field, bytes] of Object.entries(files)) {
    form.append(field, new Blob([bytes]), field.split('/').pop());
  }
  return form;
}

export const formBody = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});
