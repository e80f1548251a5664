import { LRUCache } from 'lru-cache';
import { entryBound } from '../../../core/cache.js';

/**
 * Remembers which image each device last started downloading from a device path (`GET /<product>`,
 * `/firmware.bin`...), whose answer changes when a release is published. A `Range` without `If-Range` is served
 * only when it continues that same image; otherwise the device gets the whole current image with 200, which an
 * HTTP client must take as a replacement (RFC 9110 §14.2), never the tail of another image spliced onto the
 * head it has (docs/protocols/README.md, "Resuming a download").
 *
 * Anonymous devices are keyed by address. Bounded: an evicted or never-seen device just gets the whole image.
 * One process only: in a cluster, a resume landing on another worker also gets the whole image.
 */
export function createResumeGuard(max = 100_000) {
  const started = new LRUCache<string, string>(entryBound(max));
  const key = (product: string, device: string) => `${product}\0${device}`;
  return {
    /** Whether a range without If-Range may be served from `sha256` to this device. */
    mayResume: (product: string, device: string, sha256: string) =>
      started.get(key(product, device)) === sha256,
    started(product: string, device: string, sha256: string): void {
      started.set(key(product, device), sha256);
    },
  };
}

export type ResumeGuard = ReturnType<typeof createResumeGuard>;
