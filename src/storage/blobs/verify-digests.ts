import { DomainError } from '../../core/errors.js';
import type { BlobDigests, PutOptions } from '../../core/blobs/blob-store.js';

/**
 * The client's digests against what was actually stored, for every blob store (the port's contract: on mismatch
 * DIGEST_MISMATCH, and the store discards what it wrote). Hex compared without regard to case.
 */
export function verifyDigests(
  digests: BlobDigests,
  expected: Pick<PutOptions, 'expectedSha256' | 'expectedMd5'>,
) {
  if (expected.expectedSha256 && expected.expectedSha256.toLowerCase() !== digests.sha256) {
    throw new DomainError(
      'DIGEST_MISMATCH',
      `sha256 is ${digests.sha256}, the client sent ${expected.expectedSha256}`,
    );
  }
  if (expected.expectedMd5 && expected.expectedMd5.toLowerCase() !== digests.md5) {
    throw new DomainError(
      'DIGEST_MISMATCH',
      `md5 is ${digests.md5}, the client sent ${expected.expectedMd5}`,
    );
  }
}
