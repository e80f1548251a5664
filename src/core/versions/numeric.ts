import { comparePrereleases, parseSemVer } from './semver.js';

/**
 * A version that orders as a tuple of numbers: SemVer (`1.2.3-rc.1`, and the short forms `1`, `1.2`) or a
 * four-part version (`1.2.0.0`, `v2.2.0.0`: Espressif's own AT+CIUPDATE documentation, device-protocols.md §10).
 * Missing parts are 0, so `1.2.0.0 < 1.2.0.1 < 1.3` and `1.2.3` equals `1.2.3.0` in order.
 */
export interface NumericVersion {
  parts: [number, number, number, number];
  /** SemVer pre-release identifiers (a four-part version has none). */
  prerelease: string[];
}

const FOUR_PART = /^[vV]?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

export function parseFourPart(input: string): [number, number, number, number] | undefined {
  const m = FOUR_PART.exec(input.trim());
  if (!m) return undefined;
  const parts = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  return parts.every((n) => n <= Number.MAX_SAFE_INTEGER) ? parts : undefined;
}

export function parseNumericVersion(input: string): NumericVersion | undefined {
  if (input.length > 256) return undefined;
  const semver = parseSemVer(input);
  if (semver) {
    return { parts: [semver.major, semver.minor, semver.patch, 0], prerelease: semver.prerelease };
  }
  const four = parseFourPart(input);
  return four ? { parts: four, prerelease: [] } : undefined;
}

/** Tuple order, then SemVer §11 pre-release precedence (a pre-release sorts below its release). */
export function compareNumeric(a: NumericVersion, b: NumericVersion): number {
  for (let i = 0; i < 4; i++) {
    const c = Math.sign((a.parts[i] ?? 0) - (b.parts[i] ?? 0));
    if (c) return c;
  }
  return comparePrereleases(a.prerelease, b.prerelease);
}
