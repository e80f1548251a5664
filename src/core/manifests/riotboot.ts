/**
 * The riotboot image header (RIOT `sys/include/riotboot/hdr.h`, `sys/riotboot/hdr.c`): four little-endian
 * uint32 fields at the start of every slot image: magic `RIOT` (0x544f4952), version, start address, and a
 * Fletcher-32 over the first three (`sys/checksum/fletcher32.c`, over 16-bit words). The device's flashwrite
 * substitutes the magic when it reads the slot back, so an image without a valid header fails its digest check
 * only after a full download (device-protocols.md §10): Updraft checks it at publish instead.
 */
export const RIOTBOOT_MAGIC = 0x544f4952;
export const RIOTBOOT_HDR_LEN = 16;

/** RIOT's fletcher32(): sums start at 0xffff, reduced every 359 words and once more at the end. */
export function fletcher32(words: readonly number[]): number {
  let sum1 = 0xffff;
  let sum2 = 0xffff;
  for (let i = 0; i < words.length;) {
    const end = Math.min(words.length, i + 359);
    for (; i < end; i++) {
      sum1 += words[i] ?? 0;
      sum2 += sum1;
    }
    sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
  }
  sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
  sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
  return ((sum2 << 16) | sum1) >>> 0;
}

function headerChecksum(header: Buffer): number {
  const words: number[] = [];
  for (let i = 0; i < 12; i += 2) words.push(header.readUInt16LE(i));
  return fletcher32(words);
}

/** Why the first bytes of a slot image are not a riotboot header, or undefined when they are one. */
export function riotbootHeaderProblem(head: Buffer): string | undefined {
  if (head.length < RIOTBOOT_HDR_LEN)
    return `the image is shorter than the ${RIOTBOOT_HDR_LEN}-byte riotboot header`;
  if (head.readUInt32LE(0) !== RIOTBOOT_MAGIC)
    return 'no riotboot header: the image does not start with "RIOT"';
  if (head.readUInt32LE(12) !== headerChecksum(head)) return 'the riotboot header checksum is wrong';
  return undefined;
}

/** A header as RIOT's `genhdr` tool writes it (dist/tools/riotboot_gen_hdr), for tests and tools. */
export function riotbootHeader(version: number, startAddr: number): Buffer {
  const header = Buffer.alloc(RIOTBOOT_HDR_LEN);
  header.writeUInt32LE(RIOTBOOT_MAGIC, 0);
  header.writeUInt32LE(version >>> 0, 4);
  header.writeUInt32LE(startAddr >>> 0, 8);
  header.writeUInt32LE(headerChecksum(header), 12);
  return header;
}
