/** Block1/Block2 option values (RFC 7959 §2.2): NUM (≤ 20 bits), M, SZX; size = 2^(SZX+4). */

export interface BlockValue {
  readonly num: number;
  readonly more: boolean;
  readonly szx: number;
}

export const MAX_SZX = 6;
export const MAX_BLOCK_NUM = 0xfffff;

export const blockSize = (szx: number): number => 1 << (szx + 4);

/** SZX for a block size in 16..1024 that is a power of two; throws otherwise. */
export function szxOf(size: number): number {
  const szx = Math.log2(size) - 4;
  if (!Number.isInteger(szx) || szx < 0 || szx > MAX_SZX) {
    throw new RangeError(`block size must be a power of two from 16 to 1024, got ${size}`);
  }
  return szx;
}

/**
 * Decodes a 0–3 byte value; a zero-length value is the legal encoding of NUM 0, M 0, SZX 0 (RFC 7959 §2.2).
 * Returns 'reserved-szx' for SZX 7, which a request must not carry (RFC 7959 §2.2: answer 4.00), and undefined
 * for an over-long value (a bad option length, RFC 7252 §5.4.3).
 */
export function decodeBlock(value: Buffer): BlockValue | 'reserved-szx' | undefined {
  if (value.length > 3) return undefined;
  let raw = 0;
  for (let i = 0; i < value.length; i++) raw = (raw << 8) | (value[i] ?? 0);
  const szx = raw & 0x07;
  if (szx === 7) return 'reserved-szx';
  return { num: raw >>> 4, more: (raw & 0x08) !== 0, szx };
}

export function encodeBlock(num: number, more: boolean, szx: number): Buffer {
  if (num < 0 || num > MAX_BLOCK_NUM || !Number.isInteger(num)) throw new RangeError(`block NUM ${num}`);
  const raw = (num << 4) | (more ? 0x08 : 0) | szx;
  if (raw === 0) return Buffer.alloc(0);
  const length = raw <= 0xff ? 1 : raw <= 0xffff ? 2 : 3;
  const out = Buffer.allocUnsafe(length);
  out.writeUIntBE(raw, 0, length);
  return out;
}
