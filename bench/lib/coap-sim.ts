import { createSocket, type Socket } from 'node:dgram';

/**
 * Many block-wise CoAP clients in one process (RFC 7252 §3 message format, RFC 7959 §2.2 Block2), for the memory
 * case: 1,000 coap-client processes would measure the machine, not the server. Each client has its own socket (its
 * own peer address), sends CON GET for block NUM (SZX 6 = 1024 bytes), waits for the piggybacked answer, then asks
 * for the next block; a lost datagram is retransmitted after 2 s.
 */
export interface SimOptions {
  host: string;
  port: number;
  path: string[];
  clients: number;
  /** Stop after this long even if downloads are unfinished. */
  durationMs: number;
}

export interface SimResult {
  blocks: number;
  completed: number;
  retransmits: number;
  errors: number;
}

function option(delta: number, value: Buffer): Buffer {
  // Option header with 1-byte extended delta/length where needed (§3.1); our deltas and lengths stay < 269.
  const d = delta < 13 ? delta : 13;
  const l = value.length < 13 ? value.length : 13;
  const head = [(d << 4) | l];
  if (d === 13) head.push(delta - 13);
  if (l === 13) head.push(value.length - 13);
  return Buffer.concat([Buffer.from(head), value]);
}

function uint(n: number): Buffer {
  if (n === 0) return Buffer.alloc(0);
  if (n < 0x100) return Buffer.of(n);
  if (n < 0x10000) return Buffer.of(n >> 8, n & 0xff);
  return Buffer.of(n >> 16, (n >> 8) & 0xff, n & 0xff);
}

function encodeGet(messageId: number, token: Buffer, path: string[], block: number): Buffer {
  const parts: Buffer[] = [Buffer.of(0x40 | token.length, 0x01, messageId >> 8, messageId & 0xff), token];
  let last = 0;
  for (const segment of path) {
    parts.push(option(11 - last, Buffer.from(segment)));
    last = 11;
  }
  parts.push(option(23 - last, uint((block << 4) | 6)));
  return Buffer.concat(parts);
}

/** Code, message id and the Block2 M flag of a response (enough to drive the download). */
function decodeResponse(msg: Buffer): { code: number; messageId: number; more: boolean } | undefined {
  if (msg.length < 4) return undefined;
  const tkl = (msg[0] as number) & 0x0f;
  const code = msg[1] as number;
  const messageId = ((msg[2] as number) << 8) | (msg[3] as number);
  let i = 4 + tkl;
  let number = 0;
  let more = false;
  while (i < msg.length && msg[i] !== 0xff) {
    const byte = msg[i++] as number;
    let delta = byte >> 4;
    let length = byte & 0x0f;
    if (delta === 13) delta = 13 + (msg[i++] as number);
    else if (delta === 14) {
      delta = 269 + (((msg[i] as number) << 8) | (msg[i + 1] as number));
      i += 2;
    }
    if (length === 13) length = 13 + (msg[i++] as number);
    else if (length === 14) {
      length = 269 + (((msg[i] as number) << 8) | (msg[i + 1] as number));
      i += 2;
    }
    number += delta;
    if (number === 23 && length > 0) more = ((msg[i + length - 1] as number) & 0x08) !== 0;
    i += length;
  }
  return { code, messageId, more };
}

export async function simulateClients(o: SimOptions): Promise<SimResult> {
  const result: SimResult = { blocks: 0, completed: 0, retransmits: 0, errors: 0 };
  const sockets: Socket[] = [];
  const deadline = Date.now() + o.durationMs;
  await Promise.all(
    Array.from({ length: o.clients }, async (_, c) => {
      const socket = createSocket('udp4');
      sockets.push(socket);
      await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
      let messageId = (c * 997) & 0xffff;
      let block = 0;
      let timer: NodeJS.Timeout | undefined;
      const token = Buffer.alloc(4);
      token.writeUInt32BE(c);
      await new Promise<void>((resolve) => {
        let finished = false;
        const done = () => {
          finished = true;
          clearTimeout(timer);
          resolve();
        };
        // A client whose answer never comes still ends at the deadline.
        setTimeout(done, Math.max(0, deadline - Date.now()) + 100).unref();
        let packet: Buffer = Buffer.alloc(0);
        const retransmit = () => {
          if (finished) return;
          result.retransmits++;
          socket.send(packet, o.port, o.host);
          timer = setTimeout(retransmit, 2000);
        };
        const send = () => {
          if (finished || Date.now() > deadline) return done();
          messageId = (messageId + 1) & 0xffff;
          packet = encodeGet(messageId, token, o.path, block);
          socket.send(packet, o.port, o.host);
          clearTimeout(timer);
          timer = setTimeout(retransmit, 2000);
        };
        socket.on('message', (msg) => {
          const r = decodeResponse(msg);
          if (finished || !r || r.messageId !== messageId) return;
          clearTimeout(timer);
          if (r.code !== 0x45) {
            result.errors++;
            return done();
          }
          result.blocks++;
          if (r.more) block++;
          else {
            result.completed++;
            block = 0;
          }
          send();
        });
        send();
      });
      clearTimeout(timer);
    }),
  );
  for (const s of sockets) s.close();
  return result;
}
