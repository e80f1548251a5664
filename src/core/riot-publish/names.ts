import { DomainError } from '../errors.js';
import { assertValidName, isValidName } from '../names.js';

/**
 * The RIOT seed server (aabadie/ota-server, ../shared/specs/seeds.md §1) keeps each publish id's files in a
 * folder and serves them as CoAP resources `/<folder>/<file>`. Updraft keeps them as releases of a catalog
 * product of this family; the names below are the seed's, made safe.
 */
export const RIOT_PUBLISH_FAMILY = 'riot-publish';

/**
 * First CoAP path segments other adapters own (`/fw/<product>/...`, `/updates`, `/.well-known/core`). The CoAP
 * router tries parametric routes in registration order, so a publish id with one of these names could shadow
 * them: it is refused.
 */
export const RESERVED_PUBLISH_PATHS: ReadonlySet<string> = new Set(['fw', 'updates', '.well-known']);

const MAX_PUBLISH_ID = 128;

/**
 * The publish id's folder, CoAP path segment and product name. The seed replaced `/` and `\` with `_`
 * (`server.py`, seeds.md §1.2) and then wrote into `<upload>/..` for `publish_id=..` (§1.8); here every
 * character outside `[A-Za-z0-9._-]` becomes `_`, and what remains must be a valid name without `..`.
 */
export function publishPath(publishId: unknown): string {
  if (typeof publishId !== 'string' || publishId.trim() === '') {
    throw new DomainError('INVALID_INPUT', 'the publish_id field is required');
  }
  const id = publishId.trim();
  const path = id.replace(/[^A-Za-z0-9._-]/g, '_');
  if (id.length > MAX_PUBLISH_ID || !isValidName(path) || RESERVED_PUBLISH_PATHS.has(path)) {
    throw new DomainError(
      'INVALID_NAME',
      `publish_id must be 1-${MAX_PUBLISH_ID} characters, start with a letter, digit or "_", ` +
        `contain no "..", and not be ${[...RESERVED_PUBLISH_PATHS].map((p) => `"${p}"`).join(', ')}`,
      { publishId: id.slice(0, 200) },
    );
  }
  return path;
}

/**
 * The stored name of a published file: the base name of the multipart *field name* (Tornado keys
 * `request.files` by field name; the RIOT makefiles send `-F <path>=@<path>`, seeds.md §1.2). Both `/` and `\`
 * count as separators.
 */
export function storedFileName(field: string): string {
  return assertValidName(field.split(/[/\\]/).pop() ?? '', 'file name');
}

/**
 * The seed's `.latest.` copy rule: when the third-from-last dot-separated part is `suit` or `suitv4_signed`,
 * the file is also stored with the second-from-last part replaced by `latest`
 * (`app-riot.suitv4_signed.1557135946.bin` → `app-riot.suitv4_signed.latest.bin`). Unsigned `suitv4` files get
 * no copy, as in the seed.
 */
export function latestCopyName(file: string): string | undefined {
  const parts = file.split('.');
  if (parts.length < 3) return undefined;
  const kind = parts[parts.length - 3];
  if ((kind !== 'suit' && kind !== 'suitv4_signed') || parts[parts.length - 2] === 'latest') return undefined;
  parts[parts.length - 2] = 'latest';
  return parts.join('.');
}

/**
 * The version a file name carries, as the seed's page read it (`_get_versions_from_path`): the second-from-last
 * dot part, or the third-from-last when that one is `riot` (`app-slot0.1557135946.riot.bin`). A name with fewer
 * than three parts carries none (the seed answered 500 for those).
 */
export function versionPart(file: string): string | undefined {
  const parts = file.split('.');
  if (parts.length < 3) return undefined;
  const second = parts[parts.length - 2];
  return second === 'riot' ? parts[parts.length - 3] : second;
}

/** Single-manifest RIOT (`makefiles/suit.inc.mk`: `riot.suit.latest.bin`), device-protocols.md §4.4. */
export const SINGLE_MANIFEST = 'riot.suit.latest.bin';
/** The 2019 client's `--manifest FILE` was stored under this name (seeds.md §1.6). */
export const LEGACY_MANIFEST = 'manifest';
/** `<base>-slot0.riot.suit.latest.bin`: the seed's v1 per-slot manifests (seeds.md §1.4). */
export const SLOT_MANIFEST = /^(.+)-slot[01]\.riot\.suit\.latest\.bin$/;
/** `<base>-riot.suitv4_signed.<version>.bin` (seeds.md §1.4, v4). */
export const V4_MANIFEST = /^(.+)-riot\.suitv4_signed\.[^.]+\.bin$/;

export const slotManifestName = (base: string, slot: 0 | 1) => `${base}-slot${slot}.riot.suit.latest.bin`;
export const v4ManifestName = (base: string, version: string) => `${base}-riot.suitv4_signed.${version}.bin`;
