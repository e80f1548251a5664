import { compareVersions } from '../versions/compare.js';
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

export function findArtifact(release: Release, names: readonly string[]): Artifact | undefined {
  for (const name of names) {
    const artifact = release.artifacts.find((a) => a.name === name);
    if (artifact) return artifact;
  }
  return undefined;
}

/**
 * The one update decision every protocol adapter calls: "no update", or "this artifact of this release".
 * Never offers a lower version unless an operator pinned it; never offers the image the device already runs
 * (matched by digest, which also covers devices that send no version); never offers an image that cannot fit.
 */
export function decideUpdate({ published, artifactNames, report, pinned }: UpdateQuery): UpdateDecision {
  const release = pinned ?? published[0];
  if (!release) return { kind: 'none', reason: 'no-release' };
  const artifact = findArtifact(release, artifactNames);
  if (!artifact) return { kind: 'none', reason: 'no-artifact', release };

  if (
    (report.imageMd5 && report.imageMd5.toLowerCase() === artifact.md5) ||
    (report.imageSha256 && report.imageSha256.toLowerCase() === artifact.sha256)
  ) {
    return { kind: 'none', reason: 'same-image', release, artifact };
  }
  if (report.version !== undefined && report.version !== '') {
    const order = compareVersions(release.version, report.version);
    const current = pinned ? order === 0 || release.label === report.version : order <= 0;
    if (current || release.label === report.version) {
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
