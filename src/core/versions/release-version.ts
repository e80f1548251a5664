import { DomainError } from '../errors.js';
import { isValidName } from '../names.js';
import { compareVersions } from './compare.js';
import { parseFourPart } from './numeric.js';
import { formatSemVer, parseSemVer } from './semver.js';

/**
 * The version a release is stored under (docs/versions.md):
 * - SemVer, normalised (`1.2` → `1.2.0`, `v1.0.1` → `1.0.1`);
 * - four-part numeric, normalised (`v2.2.0.0` → `2.2.0.0`);
 * - any other safe name (`test`, `osm-fw-1.2`, `2024-05-16`) kept as it is: an **opaque** version, served when
 *   asked for by name and ordered by publish time. ESP-AT modules send back whatever string they were given
 *   (device-protocols.md §10).
 * Refused with INVALID_VERSION: anything outside the name alphabet, and `latest` (a path segment meaning "the
 * newest release" on CoAP and the RIOT seed's `.latest.` copies).
 */
export function normalizeVersion(input: unknown): string {
  const t = typeof input === 'string' ? input.trim() : undefined;
  if (t !== undefined) {
    const semver = parseSemVer(t);
    if (semver) return formatSemVer(semver);
    const four = parseFourPart(t);
    if (four) return four.join('.');
    if (isValidName(t) && t.toLowerCase() !== 'latest') return t;
  }
  throw new DomainError(
    'INVALID_VERSION',
    `"${String(input).slice(0, 64)}" is not a version: use SemVer (1.2.3), four numbers (1.2.0.0) or a name of ` +
      'letters, digits, ".", "_", "+" and "-" (not "latest")',
  );
}

/** Whether a stored version orders by number (SemVer or four-part) rather than by publish time. */
export function isNumericVersion(version: string): boolean {
  return parseSemVer(version) !== undefined || parseFourPart(version) !== undefined;
}

interface Ordered {
  version: string;
  createdAt: string;
}

/**
 * Sorts a product's releases newest first. When every version is numeric, by number; as soon as one is opaque,
 * by publish time (when the release was created: uploaded or imported), for all of them, so that the order stays
 * one consistent line (a mixed comparison could not be transitive).
 */
export function newestFirst<T extends Ordered>(releases: T[]): T[] {
  const numeric = releases.every((r) => isNumericVersion(r.version));
  return releases.sort((a, b) =>
    numeric
      ? compareVersions(b.version, a.version)
      : b.createdAt.localeCompare(a.createdAt) || compareVersions(b.version, a.version),
  );
}
