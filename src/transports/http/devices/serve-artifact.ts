import { sep } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../../core/services.js';
import type { Artifact, Product, Release } from '../../../core/catalog/types.js';
import type { DeviceAdapterOptions } from '../device-adapters.js';
import { sendBlob, type SendOutcome } from '../send-blob.js';
import { createResumeGuard } from './resume-guard.js';

/** One per process: which image each device started (a range without If-Range must continue it). */
const resumeGuard = createResumeGuard();

/**
 * The X-Accel-Redirect path of each artifact, built once (artifacts are the releases cache's immutable objects:
 * a new list brings new objects, and the old entries go with them).
 */
const accelPaths = new WeakMap<Artifact, { prefix: string; path: string | undefined }>();

function accelPathOf(
  releases: Services['releases'],
  prefix: string | undefined,
  artifact: Artifact,
): string | undefined {
  if (!prefix) return undefined;
  const known = accelPaths.get(artifact);
  if (known?.prefix === prefix) return known.path;
  const blobPath = releases.blobPath(artifact);
  // Stores without files (S3) cannot be offloaded this way: Node streams the body then.
  const path = blobPath ? `${prefix.replace(/\/+$/, '')}/${blobPath.split(sep).join('/')}` : undefined;
  accelPaths.set(artifact, { prefix, path });
  return path;
}

export interface ArtifactAnswer {
  /** Undefined for an anonymous device: nothing is recorded. */
  deviceId: string | undefined;
  release: Release;
  artifact: Artifact;
  /** Protocol headers (x-MD5, x-version, Content-Disposition...). */
  headers?: Record<string, string>;
  /**
   * The client follows a `302` (DDI/SWUpdate): with `downloadRedirectTtlS` set, a GET is redirected to a presigned
   * URL of the object store. Never for ESP8266httpUpdate (redirects off by default) or ESP-AT (raw TCP).
   */
  followsRedirects?: boolean;
  /** The request named this exact release (ESP-AT): any range is served, as from a versioned URL. */
  namedRelease?: boolean;
}

/**
 * Sends an image to a device through `sendBlob` (exact Content-Length, Range, HEAD, ETag) and records the
 * download: `started` when the body starts, then `completed` or `failed`. HEAD, 304 and 416 record nothing.
 */
export async function serveArtifact(
  request: FastifyRequest,
  reply: FastifyReply,
  services: Pick<Services, 'releases' | 'updates' | 'metrics'>,
  options: DeviceAdapterOptions,
  { deviceId, release, artifact, headers, followsRedirects, namedRelease }: ArtifactAnswer,
): Promise<SendOutcome> {
  const { releases, updates, metrics } = services;
  // The route's protocol family, set when the adapter registered it (http-app.ts).
  const family = (request.routeOptions.config as { family?: string } | undefined)?.family ?? 'http';
  let bodyBytes = 0;
  if (followsRedirects && options.downloadRedirectTtlS && request.method === 'GET') {
    const url = await releases.downloadUrl(artifact, options.downloadRedirectTtlS);
    if (url) {
      updates.recordDownload(deviceId, release, 'started', 'redirected to the object store');
      void reply.code(302).header('Location', url).header('Cache-Control', 'no-store').send();
      return 'completed';
    }
  }
  let started = false;
  const accel = accelPathOf(releases, options.accelRedirectPrefix, artifact);
  const who = deviceId ?? `address:${request.ip}`;
  reply.hijack();
  try {
    const outcome = await sendBlob(request.raw, reply.raw, {
      size: artifact.size,
      sha256: artifact.sha256,
      rangeWithoutIfRange: namedRelease || resumeGuard.mayResume(release.product, who, artifact.sha256),
      // Devices want raw bytes whatever the uploader's type was (ESP httpUpdate, ESP-AT).
      contentType: 'application/octet-stream',
      headers,
      accelRedirect: accel,
      open: (range) => {
        started = true;
        // A range from byte 0 is a fresh start too (clients that fetch in pieces begin there).
        if (!range || range.start === 0) resumeGuard.started(release.product, who, artifact.sha256);
        bodyBytes = range ? range.end - range.start + 1 : artifact.size;
        metrics.download(family, release.product, 'started');
        updates.recordDownload(
          deviceId,
          release,
          'started',
          range ? `bytes ${range.start}-${range.end}` : undefined,
        );
        return releases.openArtifact(artifact, range);
      },
    });
    if (outcome === 'completed') {
      // With X-Accel-Redirect nginx sends the body; the end of the transfer is not seen here.
      if (accel) {
        updates.recordDownload(deviceId, release, 'started', 'handed to nginx (X-Accel-Redirect)');
        metrics.download(family, release.product, 'started');
      } else {
        updates.recordDownload(deviceId, release, 'completed', artifact.name);
        metrics.download(family, release.product, 'completed');
        metrics.bytesServed(family, release.product, bodyBytes);
      }
    } else if (outcome === 'aborted') {
      updates.recordDownload(deviceId, release, 'failed', 'connection closed before the last byte');
      metrics.download(family, release.product, 'aborted');
    }
    return outcome;
  } catch (err) {
    request.log.error({ err, release: release.version, artifact: artifact.name }, 'device download failed');
    if (started) {
      updates.recordDownload(deviceId, release, 'failed', 'the image could not be read');
      metrics.download(family, release.product, 'failed');
    }
    if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'Content-Length': 0 });
    reply.raw.end();
    return 'aborted';
  }
}

/**
 * The one product of a device family (`esp-at`, `simple-polling`), for protocols whose requests name no
 * product. Undefined when there is none or more than one: the adapter cannot guess.
 */
export async function productOfFamily(
  products: Services['products'],
  family: string,
): Promise<Product | undefined> {
  const matches = (await products.list()).filter((p) => p.deviceFamily.toLowerCase() === family);
  return matches.length === 1 ? matches[0] : undefined;
}

/** The version string a device compares: the spelling the release was published with (`v1.0.1`). */
export const deviceVersion = (release: Release): string => release.label ?? release.version;

/** The first value of a header or query parameter that may be repeated. */
export function first(value: unknown): string | undefined {
  const v = Array.isArray(value) ? (value[0] as unknown) : value;
  return typeof v === 'string' ? v : undefined;
}
