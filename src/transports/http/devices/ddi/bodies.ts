import type { Artifact, Release } from '../../../../core/catalog/types.js';
import type { Handling } from '../../../../core/catalog/ddi-settings.js';
import { moduleIdOf } from './ids.js';

type Href = { href: string };

/**
 * Artifact links as hawkBit's defaults (hawkbit-artifactdl-defaults.properties): `download-http` and
 * `md5sum-http` always, on the scheme the device reached us with (the one URL known to work for it), and
 * `download`/`md5sum` only over HTTPS, because SWUpdate takes `download` whenever present (§6.6).
 */
export function artifactJson(
  base: string,
  https: boolean,
  release: Release,
  artifact: Artifact,
  sha1: string,
) {
  const href = `${base}/softwaremodules/${moduleIdOf(release.id)}/artifacts/${encodeURIComponent(artifact.name)}`;
  const links: Record<string, Href> = {};
  if (https) {
    links.download = { href };
    links.md5sum = { href: `${href}.MD5SUM` };
  }
  links['download-http'] = { href };
  links['md5sum-http'] = { href: `${href}.MD5SUM` };
  return {
    filename: artifact.name,
    hashes: { sha1, md5: artifact.md5, sha256: artifact.sha256 },
    size: artifact.size,
    _links: links,
  };
}

export interface DeploymentView {
  actionId: number;
  release: Release;
  artifacts: { artifact: Artifact; sha1: string }[];
  part: string;
  name: string;
  download: Handling;
  update: Handling;
  maintenanceWindow?: 'available' | 'unavailable';
}

/** DdiDeploymentBase: `id` is a string; one chunk per release (multi-assignments are not supported). */
export function deploymentJson(base: string, https: boolean, v: DeploymentView) {
  return {
    id: String(v.actionId),
    deployment: {
      download: v.download,
      update: v.update,
      ...(v.maintenanceWindow ? { maintenanceWindow: v.maintenanceWindow } : {}),
      chunks: [
        {
          part: v.part,
          version: v.release.label ?? v.release.version,
          name: v.name,
          artifacts: v.artifacts.map((a) => artifactJson(base, https, v.release, a.artifact, a.sha1)),
        },
      ],
    },
  };
}
