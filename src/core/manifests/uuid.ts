import { createHash } from 'node:crypto';
import { DomainError } from '../errors.js';

/** RFC 9562 §6.6 (RFC 4122 Appendix C): the DNS namespace. */
export const NAMESPACE_DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

export function parseUuid(text: string): Buffer {
  const hex = text.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new DomainError('INVALID_INPUT', `not a UUID: ${text}`);
  return Buffer.from(hex, 'hex');
}

export function formatUuid(bytes: Buffer): string {
  const h = bytes.toString('hex');
  if (h.length !== 32) return h;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** RFC 9562 §5.5: SHA-1 over namespace || name, first 16 bytes, version 5 and the RFC variant bits. */
export function uuid5(namespace: string | Buffer, name: string): Buffer {
  const ns = typeof namespace === 'string' ? parseUuid(namespace) : namespace;
  const out = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  out[6] = ((out[6] ?? 0) & 0x0f) | 0x50;
  out[8] = ((out[8] ?? 0) & 0x3f) | 0x80;
  return Buffer.from(out);
}

/**
 * RIOT's rule (dist/tools/suit/gen_manifest.py, README.native.md; draft-37 "Constructing UUIDs"): the vendor id
 * is UUID5 of the vendor's domain in the DNS namespace, the class id UUID5 of the board name in the vendor id's
 * namespace. `riot-os.org` → 547d0d74-6d3a-5a92-9662-4881afd9407b.
 */
export function riotVendorId(domain = 'riot-os.org'): Buffer {
  return uuid5(NAMESPACE_DNS, domain);
}

export function riotClassId(board: string, vendorId: Buffer = riotVendorId()): Buffer {
  return uuid5(vendorId, board);
}
