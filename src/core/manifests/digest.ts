import { createHash, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../errors.js';
import { expectArray, expectBytes, expectInt } from './cbor.js';

export type SuitFormat = 'ietf-37' | 'riot-09';

/** SUIT_Digest = [algorithm-id, digest-bytes]. */
export interface SuitDigest {
  algorithm: number;
  bytes: Buffer;
}

interface HashSpec {
  name: string;
  /** node:crypto algorithm and, for SHAKE, the output length in bytes. */
  node: string;
  outputLength?: number;
}

/**
 * draft-ietf-suit-manifest-37 uses the COSE hash algorithm ids (§5, RFC 9054 §2); draft-09, which RIOT parses,
 * had its own small table (sys/include/suit.h, suit_tool/manifest.py: sha224 1, sha256 2, sha384 3, sha512 4).
 * RFC 9054 fixes SHAKE128 at 256 bits and SHAKE256 at 512 bits of output.
 */
const HASHES: Record<SuitFormat, Record<number, HashSpec>> = {
  'ietf-37': {
    [-16]: { name: 'sha256', node: 'sha256' },
    [-18]: { name: 'shake128', node: 'shake128', outputLength: 32 },
    [-43]: { name: 'sha384', node: 'sha384' },
    [-44]: { name: 'sha512', node: 'sha512' },
    [-45]: { name: 'shake256', node: 'shake256', outputLength: 64 },
  },
  'riot-09': {
    1: { name: 'sha224', node: 'sha224' },
    2: { name: 'sha256', node: 'sha256' },
    3: { name: 'sha384', node: 'sha384' },
    4: { name: 'sha512', node: 'sha512' },
  },
};

export const SHA256_ID: Record<SuitFormat, number> = { 'ietf-37': -16, 'riot-09': 2 };

export function hashName(format: SuitFormat, algorithm: number): string {
  return HASHES[format][algorithm]?.name ?? `unknown(${algorithm})`;
}

export function computeDigest(format: SuitFormat, algorithm: number, data: Uint8Array): SuitDigest {
  const spec = HASHES[format][algorithm];
  if (!spec) {
    throw new DomainError('MANIFEST_INVALID', `unsupported ${format} digest algorithm ${algorithm}`);
  }
  const hash = spec.outputLength
    ? createHash(spec.node, { outputLength: spec.outputLength })
    : createHash(spec.node);
  return { algorithm, bytes: hash.update(data).digest() };
}

export function parseSuitDigest(value: unknown, what: string): SuitDigest {
  const arr = expectArray(value, what);
  return {
    algorithm: expectInt(arr[0], `${what} algorithm-id`),
    bytes: expectBytes(arr[1], `${what} digest-bytes`),
  };
}

export function suitDigestValue(digest: SuitDigest): unknown[] {
  return [digest.algorithm, digest.bytes];
}

/** True when `expected` is the digest of `data` under `expected`'s own algorithm. */
export function digestMatches(format: SuitFormat, expected: SuitDigest, data: Uint8Array): boolean {
  const actual = computeDigest(format, expected.algorithm, data);
  return actual.bytes.length === expected.bytes.length && timingSafeEqual(actual.bytes, expected.bytes);
}
