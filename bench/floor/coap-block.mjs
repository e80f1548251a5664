// The floor under any Node.js CoAP server on this machine: node:dgram answering each confirmable GET with the
// Block2 block it asks for (RFC 7959 §2.2) from an image held in memory: no routing, no lookup, no dedup, no
// Observe, only what coap-client-notls needs to download the image. Run by bench/cases/coap-download.ts next to
// libcoap, so docs/benchmarks.md can say how much of the gap is Node's own. Arguments: <port> <image file>.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';

const [port, file] = process.argv.slice(2);
const image = readFileSync(file);
const BLOCK2 = 23;
const SIZE2 = 28;

/** Minimal big-endian unsigned integer (RFC 7252 §3.2). */
function uint(v) {
  const bytes = [];
  for (; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from(bytes);
}

/** Option header bytes for `delta` and `length` (RFC 7252 §3.1); both stay below 269 here. */
function optionHeader(delta, length) {
  const nib = (v) => (v < 13 ? v : 13);
  const out = [(nib(delta) << 4) | nib(length)];
  if (delta >= 13) out.push(delta - 13);
  if (length >= 13) out.push(length - 13);
  return out;
}

const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
socket.on('message', (data, peer) => {
  if (data.length < 4 || data[0] >> 6 !== 1 || data[1] !== 1) return; // version 1 GET only
  const tkl = data[0] & 0x0f;
  let offset = 4 + tkl;
  let number = 0;
  let block = 0; // NUM of the requested Block2, SZX 6 (1024 bytes) assumed, as coap-client -b 1024 asks
  while (offset < data.length && data[offset] !== 0xff) {
    let delta = data[offset] >> 4;
    let length = data[offset++] & 0x0f;
    if (delta === 13) delta = data[offset++] + 13;
    if (length === 13) length = data[offset++] + 13;
    number += delta;
    if (number === BLOCK2) {
      let v = 0;
      for (let i = 0; i < length; i++) v = v * 256 + data[offset + i];
      block = Math.floor(v / 16);
    }
    offset += length;
  }
  const start = block * 1024;
  const end = Math.min(start + 1024, image.length);
  const block2 = uint(block * 16 + (end < image.length ? 8 : 0) + 6);
  const size2 = block === 0 ? uint(image.length) : undefined;
  const options = [...optionHeader(BLOCK2, block2.length), ...block2];
  if (size2) options.push(...optionHeader(SIZE2 - BLOCK2, size2.length), ...size2);
  const head = Buffer.from([
    0x60 | tkl, // version 1, ACK, token length
    0x45, // 2.05 Content
    data[2],
    data[3],
    ...data.subarray(4, 4 + tkl),
    ...options,
    0xff,
  ]);
  socket.send([head, image.subarray(start, end)], peer.port, peer.address);
});
socket.bind(Number(port), '127.0.0.1', () => console.log('listening'));
