import { createHash } from 'node:crypto';

/**
 * The ESP-IDF app image format (esp-idf `components/bootloader_support/include/esp_app_format.h`,
 * `esp_image_format.c`; esptool `bin_image.py`):
 * - a 24-byte header: magic 0xE9, segment count, SPI mode/speed/size, entry address, then the extended header
 *   (`esp_image_header_t`) whose last byte, offset 23, is `hash_appended`;
 * - `segment count` segments, each an 8-byte header (load address, data length, LE) and its data;
 * - padding and a checksum byte so that the image ends on a 16-byte boundary;
 * - when `hash_appended` is 1, the SHA-256 of everything before it (32 bytes).
 * Anything after that (an arduino-esp32 signature trailer, padding) is not part of the digest.
 *
 * The device's `x-ESP32-sketch-sha256` is `esp_partition_get_sha256()` of the running partition, which for such an
 * image is this appended digest (device-protocols.md §10), not the SHA-256 of the `.bin` file.
 */
export const ESP_IMAGE_MAGIC = 0xe9;
const HEADER_LEN = 24;
const HASH_APPENDED_OFFSET = 23;
const SEGMENT_HEADER_LEN = 8;
/** ESP_IMAGE_MAX_SEGMENTS in esp_app_format.h. */
const MAX_SEGMENTS = 16;

export interface RangeReader {
  size: number;
  read(offset: number, length: number): Promise<Buffer>;
  /** SHA-256 of bytes [0, end), streamed. */
  sha256(end: number): Promise<Buffer>;
}

/**
 * The digest an ESP32 reports for this app image, lowercase hex, or undefined when the file is not an ESP-IDF
 * app image with an appended SHA-256 that verifies (an ESP8266 image, a filesystem image, random data).
 */
export async function espAppImageDigest(image: RangeReader): Promise<string | undefined> {
  if (image.size < HEADER_LEN + 32) return undefined;
  const header = await image.read(0, HEADER_LEN);
  const segments = header[1] ?? 0;
  if (header[0] !== ESP_IMAGE_MAGIC || header[HASH_APPENDED_OFFSET] !== 1) return undefined;
  if (segments === 0 || segments > MAX_SEGMENTS) return undefined;
  let offset = HEADER_LEN;
  for (let i = 0; i < segments; i++) {
    if (offset + SEGMENT_HEADER_LEN > image.size) return undefined;
    const segment = await image.read(offset, SEGMENT_HEADER_LEN);
    offset += SEGMENT_HEADER_LEN + segment.readUInt32LE(4);
  }
  // The checksum byte is the last byte of the 16-byte-aligned block after the segments (esptool
  // `append_checksum`: pad so that position + 1 is aligned, then write the checksum).
  const end = Math.ceil((offset + 1) / 16) * 16;
  if (end + 32 > image.size) return undefined;
  const stored = await image.read(end, 32);
  const computed = await image.sha256(end);
  return computed.equals(stored) ? stored.toString('hex') : undefined;
}

/** The same over an image held in memory (tests, tools). */
export function bufferReader(bytes: Buffer): RangeReader {
  return {
    size: bytes.length,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
    sha256: async (end) => createHash('sha256').update(bytes.subarray(0, end)).digest(),
  };
}
