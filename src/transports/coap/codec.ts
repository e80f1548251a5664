import { EMPTY_BUFFER, type CoapMessage, type CoapOption, type MessageType } from './message.js';

/** Why a datagram is not a CoAP message (RFC 7252 §3, §3.1, §4.1). */
export type FormatErrorKind =
  | 'truncated-header'
  | 'bad-version'
  | 'bad-token-length'
  | 'truncated'
  | 'bad-option'
  | 'empty-payload'
  | 'bad-empty-message';

export interface MessageHeader {
  readonly type: MessageType;
  readonly code: number;
  readonly messageId: number;
}

export interface FormatError {
  readonly ok: false;
  readonly kind: FormatErrorKind;
  /**
   * Present when the 4-byte header is readable and the version is 1: a CON can then be rejected with a RST
   * carrying its message id (RFC 7252 §4.2). Unknown versions are silently ignored (§3), so no header then.
   */
  readonly header?: MessageHeader;
}

export type ParseResult = { readonly ok: true; readonly message: CoapMessage } | FormatError;

const PAYLOAD_MARKER = 0xff;

/**
 * Decodes one datagram. Never throws: every malformed input becomes a typed FormatError. Token, option values
 * and payload are views into `data` (no copies), so the caller must not reuse the buffer while they live.
 */
export function parse(data: Buffer): ParseResult {
  if (data.length < 4) return { ok: false, kind: 'truncated-header' };
  const b0 = data[0] ?? 0;
  if (b0 >> 6 !== 1) return { ok: false, kind: 'bad-version' };
  const header: MessageHeader = {
    type: ((b0 >> 4) & 0x03) as MessageType,
    code: data[1] ?? 0,
    messageId: data.readUInt16BE(2),
  };
  const tokenLength = b0 & 0x0f;
  // RFC 7252 §3: token lengths 9–15 are reserved and processed as a message format error.
  if (tokenLength > 8) return { ok: false, kind: 'bad-token-length', header };
  if (data.length < 4 + tokenLength) return { ok: false, kind: 'truncated', header };
  // RFC 7252 §4.1: an Empty message has nothing after the message id.
  if (header.code === 0 && data.length !== 4) return { ok: false, kind: 'bad-empty-message', header };
  const token = data.subarray(4, 4 + tokenLength);

  const options: CoapOption[] = [];
  let offset = 4 + tokenLength;
  let number = 0;
  let payload = EMPTY_BUFFER;
  while (offset < data.length) {
    const byte = data[offset++] ?? 0;
    if (byte === PAYLOAD_MARKER) {
      // RFC 7252 §3: a marker followed by a zero-length payload is a message format error.
      if (offset === data.length) return { ok: false, kind: 'empty-payload', header };
      payload = data.subarray(offset);
      break;
    }
    let delta = byte >> 4;
    let length = byte & 0x0f;
    // RFC 7252 §3.1: nibble 15 is reserved except as the payload marker (both nibbles 15).
    if (delta === 15 || length === 15) return { ok: false, kind: 'bad-option', header };
    if (delta === 13) {
      if (offset >= data.length) return { ok: false, kind: 'truncated', header };
      delta = (data[offset++] ?? 0) + 13;
    } else if (delta === 14) {
      if (offset + 2 > data.length) return { ok: false, kind: 'truncated', header };
      delta = data.readUInt16BE(offset) + 269;
      offset += 2;
    }
    if (length === 13) {
      if (offset >= data.length) return { ok: false, kind: 'truncated', header };
      length = (data[offset++] ?? 0) + 13;
    } else if (length === 14) {
      if (offset + 2 > data.length) return { ok: false, kind: 'truncated', header };
      length = data.readUInt16BE(offset) + 269;
      offset += 2;
    }
    if (offset + length > data.length) return { ok: false, kind: 'truncated', header };
    number += delta;
    options.push({ number, value: data.subarray(offset, offset + length) });
    offset += length;
  }
  const message: CoapMessage = {
    type: header.type,
    code: header.code,
    messageId: header.messageId,
    token,
    options,
    payload,
  };
  return { ok: true, message };
}

function extendedSize(v: number): number {
  return v < 13 ? 0 : v < 269 ? 1 : 2;
}

/** Encoded size of `options`, which must be sorted by number. */
function optionsSize(options: readonly CoapOption[]): number {
  let size = 0;
  let previous = 0;
  for (const option of options) {
    const delta = option.number - previous;
    if (delta < 0) throw new RangeError('options must be sorted by number');
    if (option.value.length > 65535 + 269) throw new RangeError('option value too long');
    size += 1 + extendedSize(delta) + extendedSize(option.value.length) + option.value.length;
    previous = option.number;
  }
  return size;
}

function nibble(v: number): number {
  return v < 13 ? v : v < 269 ? 13 : 14;
}

function writeExtended(out: Buffer, offset: number, v: number): number {
  if (v < 13) return offset;
  if (v < 269) {
    out[offset] = v - 13;
    return offset + 1;
  }
  out.writeUInt16BE(v - 269, offset);
  return offset + 2;
}

/** Encodes into exactly one freshly allocated Buffer (one allocation and one copy of the payload). */
export function serialize(message: CoapMessage): Buffer {
  const { token, options, payload } = message;
  if (token.length > 8) throw new RangeError('token longer than 8 bytes');
  const size = 4 + token.length + optionsSize(options) + (payload.length > 0 ? 1 + payload.length : 0);
  const out = Buffer.allocUnsafe(size);
  out[0] = 0x40 | (message.type << 4) | token.length;
  out[1] = message.code;
  out.writeUInt16BE(message.messageId & 0xffff, 2);
  let offset = 4 + token.copy(out, 4);
  let previous = 0;
  for (const option of options) {
    const delta = option.number - previous;
    const length = option.value.length;
    out[offset++] = (nibble(delta) << 4) | nibble(length);
    offset = writeExtended(out, offset, delta);
    offset = writeExtended(out, offset, length);
    offset += option.value.copy(out, offset);
    previous = option.number;
  }
  if (payload.length > 0) {
    out[offset++] = PAYLOAD_MARKER;
    payload.copy(out, offset);
  }
  return out;
}

/** An Empty ACK or RST for a message id (RFC 7252 §4.1–§4.3). */
export function serializeEmpty(type: MessageType, messageId: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out[0] = 0x40 | (type << 4);
  out[1] = 0;
  out.writeUInt16BE(messageId & 0xffff, 2);
  return out;
}
