import { DomainError } from '../errors.js';

/** A parsed SemVer 2.0 version (https://semver.org). Build metadata is kept for display, ignored in order. */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: (string | number)[];
  build: string[];
}

// The official SemVer 2.0 grammar, with minor and patch optional so that `1.2` and `1` are accepted
// (the drop-folder seed names files `firmware-0.1.bin`), and an optional leading `v` (`v1.0.1` is common).
const SEMVER =
  /^[vV]?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

const MAX_PART = Number.MAX_SAFE_INTEGER;

export function parseSemVer(input: string): SemVer | undefined {
  if (input.length > 256) return undefined;
  const m = SEMVER.exec(input.trim());
  if (!m) return undefined;
  const nums = [m[1], m[2], m[3]].map((p) => (p === undefined ? 0 : Number(p)));
  if (nums.some((n) => n > MAX_PART)) return undefined;
  return {
    major: nums[0] ?? 0,
    minor: nums[1] ?? 0,
    patch: nums[2] ?? 0,
    prerelease: m[4] ? m[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)) : [],
    build: m[5] ? m[5].split('.') : [],
  };
}

export function formatSemVer(v: SemVer): string {
  let out = `${v.major}.${v.minor}.${v.patch}`;
  if (v.prerelease.length) out += `-${v.prerelease.join('.')}`;
  if (v.build.length) out += `+${v.build.join('.')}`;
  return out;
}

/** Normalises a release version (`1.2` → `1.2.0`, `v1.0.1` → `1.0.1`) or throws INVALID_VERSION. */
export function normalizeVersion(input: unknown): string {
  const parsed = typeof input === 'string' ? parseSemVer(input) : undefined;
  if (!parsed) {
    throw new DomainError('INVALID_VERSION', `"${String(input).slice(0, 64)}" is not a SemVer 2.0 version`);
  }
  return formatSemVer(parsed);
}

function compareIdentifiers(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  // SemVer §11.4.3: numeric identifiers always have lower precedence than alphanumeric ones.
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** SemVer §11 precedence: pre-releases sort below their release, build metadata is ignored. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  const core = Math.sign(a.major - b.major) || Math.sign(a.minor - b.minor) || Math.sign(a.patch - b.patch);
  if (core) return core;
  if (!a.prerelease.length || !b.prerelease.length) {
    return Math.sign(b.prerelease.length - a.prerelease.length);
  }
  const n = Math.max(a.prerelease.length, b.prerelease.length);
  for (let i = 0; i < n; i++) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const c = compareIdentifiers(x, y);
    if (c) return c;
  }
  return 0;
}
