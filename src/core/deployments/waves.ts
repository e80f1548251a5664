import { hash } from 'node:crypto';
import { DomainError } from '../errors.js';
import type { Wave } from './types.js';

/**
 * A device's place in a deployment: a stable hash of (deployment id, device id) in [0, 1). The same devices
 * form the canary every time it is evaluated, on every replica, and a device that joins later is placed by the
 * same rule without anything stored.
 */
export function positionOf(deploymentId: string, deviceId: string): number {
  // SHA-256 of `<deployment>\0<device>`; the one-shot hash and a hex prefix cost a fifth of a Hash object's
  // update/digest (0.8 against 4.5 µs here), on every check-in of a device the deployment has not reached yet.
  // 48 bits: exact in a double, and plenty to order a fleet of millions.
  return parseInt(hash('sha256', `${deploymentId}\0${deviceId}`).slice(0, 12), 16) / 2 ** 48;
}

/** The wave a position falls in, or undefined when it is beyond the last one (not targeted). */
export function waveOf(waves: readonly Wave[], position: number): number | undefined {
  for (let i = 0; i < waves.length; i++) if (position < (waves[i] as Wave).upTo) return i;
  return undefined;
}

type ParsedWave = { percent: number } | { count: number };

/** `1%,10%,100%` or `10,100,1000`, cumulative and increasing. */
export function parseWaves(specs: unknown): { spec: string; parsed: ParsedWave }[] {
  const list = specs === undefined ? ['100%'] : specs;
  if (!Array.isArray(list) || list.length === 0 || list.length > 20) {
    throw new DomainError(
      'INVALID_INPUT',
      'waves must be a list of 1 to 20 entries such as 1%, 10%, 100% or 10, 100',
    );
  }
  let last = -1;
  let lastKind: 'percent' | 'count' | undefined;
  return list.map((raw: unknown) => {
    const spec = String(raw).trim();
    const m = /^(\d+(?:\.\d+)?)(%)?$/.exec(spec);
    const value = m ? Number(m[1]) : NaN;
    const kind = m?.[2] ? 'percent' : 'count';
    if (
      !m ||
      value <= 0 ||
      (kind === 'percent' && value > 100) ||
      (kind === 'count' && !Number.isInteger(value))
    ) {
      throw new DomainError(
        'INVALID_INPUT',
        `wave "${spec.slice(0, 20)}" is not a percentage (0-100%] or a device count`,
      );
    }
    if (lastKind && kind !== lastKind) {
      throw new DomainError('INVALID_INPUT', 'waves are all percentages or all counts');
    }
    if (value <= last)
      throw new DomainError('INVALID_INPUT', 'waves are cumulative: each larger than the one before');
    last = value;
    lastKind = kind;
    return { spec, parsed: kind === 'percent' ? { percent: value } : { count: value } };
  });
}

/**
 * Turns the operator's waves into position bounds. Percentages are bounds already (10% = positions below
 * 0.1); counts become the position of the first device beyond the count among those the target matches now,
 * and a last count that covers them all becomes 1, so later joiners are targeted too.
 */
export function waveBounds(
  parsed: { spec: string; parsed: ParsedWave }[],
  sortedPositions: number[],
): Wave[] {
  return parsed.map(({ spec, parsed: p }) => {
    if ('percent' in p) return { spec, upTo: p.percent / 100 };
    const upTo = p.count < sortedPositions.length ? (sortedPositions[p.count] as number) : 1;
    return { spec, upTo };
  });
}
