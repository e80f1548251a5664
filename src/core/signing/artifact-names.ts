import type { Artifact } from '../catalog/types.js';

/**
 * Artifact names shared with the CoAP adapter, which serves `riot.suit.latest.bin` (the newest published
 * release's `riot.suit.<seq>.bin`) and `slotN.<seq>.bin` (artifact `slotN` of the release holding
 * `riot.suit.<seq>.bin`).
 */
export const manifestArtifactName = (seq: number) => `riot.suit.${seq}.bin`;
export const slotFileName = (slot: string, seq: number) => `${slot}.${seq}.bin`;

const MANIFEST = /^riot\.suit\.(\d+|latest)\.bin$/;
/** `riot.suit.<seq>.bin`, the sequence number in group 1. */
export const SEQ_MANIFEST = /^riot\.suit\.(\d+)\.bin$/;
/** `slot0`, `slot0.bin`, `slot0.<anything>.bin` (RIOT's `slot0.<APP_VER>.bin`) → `slot0`. */
const SLOT = /^(slot[01])(?:\.bin|\.[^/]+\.bin)?$/;

export function isManifestName(name: string): boolean {
  return name === 'manifest' || MANIFEST.test(name);
}

export function slotOf(name: string): 'slot0' | 'slot1' | null {
  return (SLOT.exec(name)?.[1] as 'slot0' | 'slot1' | undefined) ?? null;
}

/** A release's SUIT manifest: the `riot.suit.<seq>.bin` with the highest seq, else `manifest`. */
export function findManifestArtifact(artifacts: readonly Artifact[]): Artifact | undefined {
  let best: { artifact: Artifact; seq: number } | undefined;
  for (const artifact of artifacts) {
    const m = SEQ_MANIFEST.exec(artifact.name);
    const seq = m ? Number(m[1]) : -1;
    if (m && (!best || seq > best.seq)) best = { artifact, seq };
  }
  return best?.artifact ?? artifacts.find((a) => a.name === 'manifest');
}
