import { createHash } from 'node:crypto';

/**
 * hawkBit ids are integers, and SWUpdate parses them as such (`"id": %d` in its feedback, §6.6). Updraft keeps no
 * action table: an id is a 31-bit digest of what it stands for, so every replica derives the same id without a
 * database write, and it stays stable as long as its inputs do. Ids only need to be unique per device (actions)
 * or per product (software modules); a 31-bit digest collides there with negligible probability.
 */
function digest31(...parts: string[]): number {
  const n = createHash('sha256').update(parts.join('\0')).digest().readUInt32BE(0) & 0x7fffffff;
  return n === 0 ? 1 : n;
}

/**
 * Stable per (device, deployment) when a deployment made the offer (its rollback offer is another action), else
 * per (device, release).
 */
export const actionIdOf = (
  deviceId: string,
  offer: { deploymentId?: string; rollback?: boolean; releaseId: string },
): number =>
  offer.deploymentId
    ? digest31('action', deviceId, offer.rollback ? 'rollback' : 'deployment', offer.deploymentId)
    : digest31('action', deviceId, 'release', offer.releaseId);

/** One software module per release. */
export const moduleIdOf = (releaseId: string): number => digest31('module', releaseId);

/**
 * hawkBit's `?c=` on the deploymentBase link changes whenever the action's content changes (clients may cache
 * by URL): a signed 32-bit digest of what the answer depends on.
 */
export const cacheKeyOf = (...parts: (string | number)[]): number =>
  createHash('sha256').update(parts.join('\0')).digest().readInt32BE(0);
