import { compareVersions } from '../versions/compare.js';
import { isNumericVersion } from '../versions/release-version.js';
import type { Artifact, Release } from '../catalog/types.js';

/** What a device reports about itself, in protocol-neutral terms. */
export interface DeviceReport {
  version?: string;
  /** Digests of the image the device runs now (lowercase hex), when the protocol sends them. */
  imageMd5?: string;
  imageSha256?: string;
  /** Bytes available for a new image. */
  freeSpace?: number;
}

export interface UpdateQuery {
  /** Published releases of the product, newest first. */
  published: Release[];
  /** The artifact names acceptable for this request, in order of preference (`firmware.bin`, `ota.bin`...). */
  artifactNames: readonly string[];
  report: DeviceReport;
  /** An operator pin: exactly this release, even a lower version. */
  pinned?: Release;
}

/**
 * Why there is no update. `not-targeted`: the product is in `deployments` rollout mode and no deployment
 * offers this device anything. `not-now`: a deployment targets the device, but its wave, pace, window or
 * download cap says not yet (`retryAfterSeconds` is a hint). Adapters answer both in their protocol's words
 * for "no update".
 */
export type NoUpdateReason =
  | 'no-release'
  | 'no-artifact'
  | 'up-to-date'
  | 'same-image'
  | 'insufficient-space'
  | 'not-targeted'
  | 'not-now';

export type UpdateDecision =
  | {
      kind: 'none';
      reason: NoUpdateReason;
      release?: Release;
      artifact?: Artifact;
      retryAfterSeconds?: number;
    }
  | {
      kind: 'update';
      release: Release;
      artifact: Artifact;
      /** Present when a deployment made this offer (absent in immediate mode and for pins). */
      offer?: { deploymentId: string; rollback: boolean };
    };

/**
 * How a release stands against the version a device reports: > 0 newer, 0 the same, < 0 older, undefined when
 * they cannot be ordered (an opaque release name the device does not run). docs/versions.md:
 * - the device reports the release's version or its label → the same;
 * - both numeric (SemVer, four-part) → by number;
 * - the device reports another release of the product → by the product's release order (publish time once a
 *   product has opaque versions);
 * - otherwise natural order for a numeric release, "cannot be ordered" for an opaque one.
 */
export function orderAgainstReport(
  release: Release,
  reported: string,
  published: readonly Release[],
): number | undefined {
  if (release.version === reported || release.label === reported) return 0;
  const releaseNumeric = isNumericVersion(release.version);
  if (releaseNumeric && isNumericVersion(reported)) return compareVersions(release.version, reported);
  const at = published.findIndex((r) => r.version === reported || r.label === reported);
  const self = published.findIndex((r) => r.id === release.id);
  if (at >= 0 && self >= 0) return Math.sign(at - self);
  return releaseNumeric ? compareVersions(release.version, reported) : undefined;
}

export function findArtifact(release: Release, names: readonly string[]): Artifact | undefined {
  for (const name of names) {
    const artifact = release.artifacts.find((a) => a.name === name);
    if (artifact) return artifact;
  }
  return undefined;
}

/**
 * The one update decision every protocol adapter calls: "no update", or "this artifact of this release".
 * The candidate is the newest published release that has an artifact this request accepts (the STM32 seed
 * serves the newest file of the device's TYPE even when a newer file of another TYPE exists,
 * device-protocols.md §10), or the operator's pin.
 * Never offers a lower version unless an operator pinned it; never offers the image the device already runs
 * (matched by digest, which also covers devices that send no version); never offers an image that cannot fit.
 */
export function decideUpdate({ published, artifactNames, report, pinned }: UpdateQuery): UpdateDecision {
  const release = pinned ?? published.find((r) => findArtifact(r, artifactNames)) ?? published[0];
  if (!release) return { kind: 'none', reason: 'no-release' };
  const artifact = findArtifact(release, artifactNames);
  if (!artifact) return { kind: 'none', reason: 'no-artifact', release };

  if (
    (report.imageMd5 && report.imageMd5.toLowerCase() === artifact.md5) ||
    (report.imageSha256 &&
      (report.imageSha256.toLowerCase() === artifact.sha256 ||
        report.imageSha256.toLowerCase() === artifact.imageSha256))
  ) {
    return { kind: 'none', reason: 'same-image', release, artifact };
  }
  if (report.version !== undefined && report.version !== '') {
    const order = orderAgainstReport(release, report.version, published);
    const current = order !== undefined && (pinned ? order === 0 : order <= 0);
    if (current) {
      return { kind: 'none', reason: 'up-to-date', release, artifact };
    }
  }
  if (
    report.freeSpace !== undefined &&
    Number.isFinite(report.freeSpace) &&
    artifact.size > report.freeSpace
  ) {
    return { kind: 'none', reason: 'insufficient-space', release, artifact };
  }
  return { kind: 'update', release, artifact };
}
