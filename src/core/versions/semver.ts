/** A parsed SemVer 2.0 version (https://semver.org). Build metadata is kept for display, ignored in order. */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  /** Identifiers as written; all-digit ones compare as numbers of any length (digit strings). */
  prerelease: string[];
  build: string[];
}

// The official SemVer 2.0 grammar, with an optional leading `v` (`v1.0.1` is common).
const SEMVER =
  /^[vV]?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
// Short forms `1` and `1.2` (the ESP8266 seed names files `firmware-0.1.bin`), only without a pre-release or
// build: otherwise `2024-05-16` would read as `2024.0.0-05-16` (device-protocols.md §10, docs/versions.md).
const SHORT = /^[vV]?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?$/;

const MAX_PART = Number.MAX_SAFE_INTEGER;

export function parseSemVer(input: string): SemVer | undefined {
  if (input.length > 256) return undefined;
  const t = input.trim();
  const m = SEMVER.exec(t) ?? SHORT.exec(t);
  if (!m) return undefined;
  const nums = [m[1], m[2], m[3]].map((p) => (p === undefined ? 0 : Number(p)));
  if (nums.some((n) => n > MAX_PART)) return undefined;
  return {
    major: nums[0] ?? 0,
    minor: nums[1] ?? 0,
    patch: nums[2] ?? 0,
    prerelease: m[4] ? m[4].split('.') : [],
    build: m[5] ? m[5].split('.') : [],
  };
}

export function formatSemVer(v: SemVer): string {
  let out = `${v.major}.${v.minor}.${v.patch}`;
  if (v.prerelease.length) out += `-${v.prerelease.join('.')}`;
  if (v.build.length) out += `+${v.build.join('.')}`;
  return out;
}

const DIGITS = /^\d+$/;

export function comparePrereleaseIdentifiers(a: string, b: string): number {
  const da = DIGITS.test(a);
  const db = DIGITS.test(b);
  // SemVer §11.4.1: numerically, at any length (`9007199254740993` > `9007199254740992`, no float rounding).
  if (da && db) return compareDigitStrings(a, b);
  // SemVer §11.4.3: numeric identifiers always have lower precedence than alphanumeric ones.
  if (da) return -1;
  if (db) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares two runs of digits as unbounded numbers: strip leading zeros, then longer is larger. */
export function compareDigitStrings(x: string, y: string): number {
  const a = x.replace(/^0+(?=\d)/, '');
  const b = y.replace(/^0+(?=\d)/, '');
  if (a.length !== b.length) return Math.sign(a.length - b.length);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** SemVer §11 precedence: pre-releases sort below their release, build metadata is ignored. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  const core = Math.sign(a.major - b.major) || Math.sign(a.minor - b.minor) || Math.sign(a.patch - b.patch);
  if (core) return core;
  return comparePrereleases(a.prerelease, b.prerelease);
}

/** SemVer §11.4 on the pre-release identifiers alone: none sorts above any; otherwise field by field. */
export function comparePrereleases(a: readonly string[], b: readonly string[]): number {
  if (!a.length || !b.length) return Math.sign(b.length - a.length);
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const c = comparePrereleaseIdentifiers(x, y);
    if (c) return c;
  }
  return 0;
}
