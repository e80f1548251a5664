/**
 * A catalog artifact as a CoAP body: one ranged read from the blob store per block (RFC 7959 §2), ETag = the
 * first 8 bytes of its sha256, and download bookkeeping for devices that carry no id of their own.
 */
import type { Artifact, Release } from '../../../core/catalog/types.js';
import type { Services } from '../../../core/services.js';
import type { Peer } from '../message.js';
import { ContentFormat } from '../options.js';
import { etagFromSha256, type CoapBody } from '../resource.js';

/**
 * CoAP devices send no id (RIOT, STM32, plain block-wise clients), so they are keyed by their address: the
 * peer's IP without the port (a new socket per transfer changes the port), IPv4-mapped IPv6 unwrapped so that a
 * device has one id whichever socket family reached it.
 */
export function deviceIdOf(peer: Peer): string {
  return peer.address.startsWith('::ffff:') && peer.address.includes('.')
    ? peer.address.slice('::ffff:'.length)
    : peer.address;
}

export interface ArtifactBodyOptions {
  /** Serve the image from this byte on (the STM32 protocol's OFFSET); the body is the rest of the image. */
  offset?: number;
  /** Undefined for a representation nobody downloads as such (an Observe notification): nothing is recorded. */
  deviceId: string | undefined;
  /** The protocol family in metrics (the adapter's name, as in `updraft_requests_total`). */
  family?: string;
  /** Default octet-stream (42); `null` sends no Content-Format (the STM32 seed sends none). */
  contentFormat?: number | null;
}

/** ETags by artifact: artifacts come from the cached release lists, so a transfer decodes its ETag once. */
const etags = new WeakMap<Artifact, Buffer>();

function etagOf(artifact: Artifact): Buffer {
  let etag = etags.get(artifact);
  if (etag === undefined) {
    etag = etagFromSha256(artifact.sha256);
    etags.set(artifact, etag);
  }
  return etag;
}

/**
 * The body reads exactly the block the server asks for, so serving block 0 and serving the last block are the
 * moments a download starts and completes (`recordDownload`); nothing is kept between blocks. A retransmitted
 * request can record a stage twice, which the device history tolerates.
 */
export function artifactBody(
  services: Pick<Services, 'releases' | 'updates' | 'metrics'>,
  release: Release,
  artifact: Artifact,
  { offset = 0, deviceId, contentFormat = ContentFormat.OCTET_STREAM, family = 'coap' }: ArtifactBodyOptions,
): CoapBody {
  const size = artifact.size - offset;
  const { metrics } = services;
  const completed = (): void => {
    services.updates.recordDownload(deviceId, release, 'completed', artifact.name);
    metrics.download(family, release.product, 'completed');
  };
  return {
    size,
    etag: etagOf(artifact),
    ...(contentFormat !== null ? { contentFormat } : {}),
    read: (start, length) => {
      metrics.bytesServed(family, release.product, length);
      if (start === 0) {
        metrics.download(family, release.product, 'started');
        services.updates.recordDownload(
          deviceId,
          release,
          'started',
          offset > 0 ? `${artifact.name} from byte ${offset}` : artifact.name,
        );
      }
      const last = start + length === size;
      // A cached image is a view of the block, synchronously; otherwise one ranged read from the store.
      const cached = services.releases.readArtifactCached(artifact, offset + start, length);
      if (cached !== undefined) {
        if (last) completed();
        return cached;
      }
      const bytes = services.releases.readArtifact(artifact, offset + start, length);
      if (!last) return bytes;
      return bytes.then((block) => {
        completed();
        return block;
      });
    },
  };
}
