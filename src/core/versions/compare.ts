import { compareNumeric, parseNumericVersion } from './numeric.js';
import { compareDigitStrings } from './semver.js';

/**
 * Compares two version strings as devices report them. The documented rule (docs/versions.md):
 * 1. When both are numeric versions (SemVer with a leading `v` and the short forms `1`, `1.2` allowed, or four-part
 *    `1.2.0.0`), they compare as tuples of numbers, then by SemVer pre-release precedence.
 * 2. Otherwise both are compared in natural order: each string is split into runs of digits and runs of other
 *    characters; digit runs compare as numbers, other runs as text (case-insensitive), a digit run sorts below a text
 *    run, and a string that is a prefix of the other sorts first. `v1` < `v1.0.1` < `v2` < `v10`.
 * Never throws: any string has a place in the order.
 */
export function compareVersions(a: string, b: string): number {
  const na = parseNumericVersion(a);
  const nb = parseNumericVersion(b);
  if (na && nb) return compareNumeric(na, nb);
  return compareNatural(stripV(a), stripV(b));
}

function stripV(s: string): string {
  const t = s.trim();
  return /^[vV]\d/.test(t) ? t.slice(1) : t;
}

const RUN = /\d+|\D+/g;

export function compareNatural(a: string, b: string): number {
  const ra = a.toLowerCase().match(RUN) ?? [];
  const rb = b.toLowerCase().match(RUN) ?? [];
  const n = Math.min(ra.length, rb.length);
  for (let i = 0; i < n; i++) {
    const x = ra[i] as string;
    const y = rb[i] as string;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      // Digit runs may exceed Number's safe range (build numbers, dates): compared as digit strings.
      const c = compareDigitStrings(x, y);
      if (c) return c;
    } else if (dx !== dy) {
      return dx ? -1 : 1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return Math.sign(ra.length - rb.length);
}
