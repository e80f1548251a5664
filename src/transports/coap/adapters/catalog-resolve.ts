/**
 * Which published artifact a `/fw/<product>/<second>/<file>` path names. Pure functions over a product's
 * published releases (newest first, as `releases.listPublished` returns them), so the hot path is a cache hit
 * and a scan of a short list.
 */
import type { Artifact, Product, Release } from '../../../core/catalog/types.js';
import { findManifestArtifact, SEQ_MANIFEST, slotFileName } from '../../../core/signing/artifact-names.js';
import { normalizeVersion } from '../../../core/versions/release-version.js';

export interface Resolved {
  readonly release: Release;
  readonly artifact: Artifact;
}

export const LATEST = 'latest';
/** RIOT's `SUIT_MANIFEST_BASENAME` with the `latest` symlink name (makefiles/suit.inc.mk). */
export const RIOT_LATEST_MANIFEST = 'riot.suit.latest.bin';
/** riotboot.mk's `slot0.$(APP_VER).bin`, with APP_VER = the manifest's sequence number (docs/signing.md). */
const RIOT_SLOT = /^(slot[01])\.(\d+)\.bin$/;

export const isRiot = (product: Product): boolean => product.deviceFamily.toLowerCase() === 'riot';

/** The version a path segment names: the normalised SemVer or the label the release was published with. */
function releaseNamed(published: readonly Release[], segment: string): Release | undefined {
  if (segment === LATEST) return published[0];
  let normalised: string | undefined;
  try {
    normalised = normalizeVersion(segment);
  } catch {
    normalised = undefined;
  }
  return published.find((r) => r.version === normalised || r.label === segment);
}

/** `/fw/<product>/<version>|latest/<artifact>` for every family but RIOT. */
export function resolveCatalogFile(
  published: readonly Release[],
  second: string,
  file: string,
): Resolved | undefined {
  const release = releaseNamed(published, second);
  const artifact = release?.artifacts.find((a) => a.name === file);
  return release && artifact ? { release, artifact } : undefined;
}

/** The release's SUIT manifest when it is stored under RIOT's name, with its sequence number. */
export function riotManifestOf(release: Release): { artifact: Artifact; seq: number } | undefined {
  const artifact = findManifestArtifact(release.artifacts);
  const m = artifact ? SEQ_MANIFEST.exec(artifact.name) : null;
  return artifact && m ? { artifact, seq: Number(m[1]) } : undefined;
}

/**
 * RIOT's default CoAP root `/fw/<APPLICATION>/<BOARD>/` (device-protocols.md §4.4): `riot.suit.latest.bin` is
 * the newest published release's manifest; `riot.suit.<seq>.bin` and `slotN.<seq>.bin` belong to the published
 * release whose manifest is `riot.suit.<seq>.bin`, which is what the manifest's component URIs point at.
 */
export function resolveRiotFile(published: readonly Release[], file: string): Resolved | undefined {
  if (file === RIOT_LATEST_MANIFEST) {
    const newest = published[0];
    const manifest = newest ? riotManifestOf(newest) : undefined;
    return newest && manifest ? { release: newest, artifact: manifest.artifact } : undefined;
  }
  const manifestName = SEQ_MANIFEST.test(file) ? file : riotManifestForSlot(file);
  if (manifestName === undefined) return undefined;
  const release = published.find((r) => r.artifacts.some((a) => a.name === manifestName));
  if (!release) return undefined;
  const slot = RIOT_SLOT.exec(file)?.[1];
  const artifact = release.artifacts.find((a) => a.name === (slot ?? manifestName));
  return artifact ? { release, artifact } : undefined;
}

function riotManifestForSlot(file: string): string | undefined {
  const m = RIOT_SLOT.exec(file);
  return m ? `riot.suit.${m[2]}.bin` : undefined;
}

/** The file names a RIOT release is served under: its manifest and its slots, by sequence number. */
export function riotFilesOf(release: Release): { name: string; artifact: Artifact; manifest: boolean }[] {
  const manifest = riotManifestOf(release);
  if (!manifest) return [];
  const files = [{ name: manifest.artifact.name, artifact: manifest.artifact, manifest: true }];
  for (const slot of ['slot0', 'slot1']) {
    const artifact = release.artifacts.find((a) => a.name === slot);
    if (artifact) files.push({ name: slotFileName(slot, manifest.seq), artifact, manifest: false });
  }
  return files;
}
