import { DomainError } from '../errors.js';
import type { Artifact } from '../catalog/types.js';
import { slotFileName, slotOf } from './artifact-names.js';

/**
 * RIOT copies each slot URI into a buffer of `CONFIG_SOCK_URLPATH_MAXLEN`, which `makefiles/suit.inc.mk` sets to
 * 128, and `handlers_command_seq.c` refuses `url_len >= 128` (device-protocols.md §10): such a manifest can never
 * be installed.
 */
export const RIOT_URI_MAX_BYTES = 128;

/**
 * The short CoAP path of a slot image, by the first 16 hex digits (64 bits) of its SHA-256: it fits whatever the
 * product and board are called. The CoAP catalog adapter serves it (`/fw/d/<digest>`); devices check the full
 * digest from the manifest anyway.
 */
export const DIGEST_PATH = '/fw/d/';
export const DIGEST_PREFIX_LEN = 16;
export const digestPath = (sha256: string): string => `${DIGEST_PATH}${sha256.slice(0, DIGEST_PREFIX_LEN)}`;

const fits = (uri: string): boolean => Buffer.byteLength(uri, 'utf8') < RIOT_URI_MAX_BYTES;

/**
 * The URI a generated manifest names for a slot: RIOT's own layout `<root>/fw/<app>/<board>/slotN.<seq>.bin`
 * when it fits in 128 bytes, else the short `<root>/fw/d/<digest>`; a public URL too long for even that is an
 * error the operator must fix.
 */
export function slotUri(
  publicUrl: string,
  product: string,
  board: string,
  slot: string,
  seq: number,
  sha256: string,
): string {
  const root = publicUrl.replace(/\/+$/, '');
  const long = `${root}/fw/${product}/${board}/${slotFileName(slot, seq)}`;
  if (fits(long)) return long;
  const short = `${root}${digestPath(sha256)}`;
  if (fits(short)) return short;
  throw new DomainError(
    'INVALID_INPUT',
    `the CoAP public URL is too long: slot URIs must stay under ${RIOT_URI_MAX_BYTES} bytes for RIOT devices`,
  );
}

/** The uploaded slot a URI's last segment names: RIOT's `slotN[.<x>].bin`, or a `/fw/d/<digest>` prefix. */
export function slotOfUri(uri: string, slots: readonly Artifact[]): Artifact | undefined {
  const file = uri.slice(uri.lastIndexOf('/') + 1);
  const slot = slotOf(file);
  if (slot) return slots.find((a) => a.name === slot);
  if (/^[0-9a-f]{16}$/.test(file) && uri.includes(DIGEST_PATH)) {
    return slots.find((a) => a.name.startsWith('slot') && a.sha256.startsWith(file));
  }
  return undefined;
}

export interface UriRules {
  /** The server's `--coap-public-url`; empty when unset (the host must then be one of `ownHosts`). */
  publicUrl: string;
  product: string;
  board: string;
  seq: number;
  slots: readonly Artifact[];
  /** settings.suit.allowedUriHosts, lowercase; `*` = any host. */
  allowedHosts: readonly string[];
  /** Without a public URL: the hosts (no port) that are this server (`[::1]`, `192.0.2.7`, its host name). */
  ownHosts: readonly string[];
}

/** host[:port] without the scheme's default port (RFC 7252 §6.1: 5683, §6.2: 5684 for coaps). */
function hostOf(url: URL): string {
  const host = url.host.toLowerCase();
  const defaultPort = url.protocol === 'coaps:' ? ':5684' : ':5683';
  return host.endsWith(defaultPort) ? host.slice(0, -defaultPort.length) : host;
}

function parse(uri: string): URL | undefined {
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

/**
 * An uploaded manifest's component URIs must fit RIOT's 128 bytes and name this server's resources for this
 * release: the public URL's host, and a path the CoAP adapter serves for these slots
 * (`/fw/<app>/<board>/slotN.<seq>.bin` or `/fw/d/<digest>`). A host the operator allowed explicitly may hold
 * anything. MANIFEST_INVALID (422) otherwise: a manifest pointing elsewhere would be served as the latest.
 */
export function checkManifestUris(uris: readonly (string | null)[], rules: UriRules): void {
  const own = rules.publicUrl ? parse(rules.publicUrl) : undefined;
  const prefix = own ? own.pathname.replace(/\/+$/, '') : '';
  for (const uri of uris) {
    if (uri === null) continue;
    const bytes = Buffer.byteLength(uri, 'utf8');
    if (bytes >= RIOT_URI_MAX_BYTES) {
      throw new DomainError(
        'MANIFEST_INVALID',
        `URI ${uri.slice(0, 60)}… is ${bytes} bytes; RIOT devices accept only URIs under ${RIOT_URI_MAX_BYTES} ` +
          'bytes (CONFIG_SOCK_URLPATH_MAXLEN): use a shorter root, or let Updraft build the manifest',
      );
    }
    const url = parse(uri);
    if (!url || (url.protocol !== 'coap:' && url.protocol !== 'coaps:')) {
      throw new DomainError('MANIFEST_INVALID', `URI ${uri} is not a coap:// or coaps:// URI`);
    }
    const host = hostOf(url);
    const allowed = rules.allowedHosts.map((h) => h.replace(/:5683$/, ''));
    if (allowed.includes('*') || allowed.includes(host) || allowed.includes(url.host.toLowerCase())) continue;
    if (own && (url.protocol !== own.protocol || host !== hostOf(own))) {
      throw new DomainError(
        'MANIFEST_INVALID',
        `URI ${uri} names host ${host}, not this server (${hostOf(own)}); allow it with ` +
          'settings.suit.allowedUriHosts',
      );
    }
    // No public URL: the host must at least be one this machine answers to, or devices would fetch the slots
    // from elsewhere while the manifest is served as this product's latest.
    if (!own && !rules.ownHosts.includes(url.hostname.toLowerCase())) {
      throw new DomainError(
        'MANIFEST_INVALID',
        `URI ${uri} names host ${url.hostname}, which is not an address of this server; start it with ` +
          '--coap-public-url, or allow the host with settings.suit.allowedUriHosts',
      );
    }
    const path = url.pathname.slice(prefix.length);
    const slot = slotOfUri(uri, rules.slots);
    const served =
      slot !== undefined &&
      url.pathname.startsWith(prefix) &&
      (path === `/fw/${rules.product}/${rules.board}/${slotFileName(slot.name, rules.seq)}` ||
        path === digestPath(slot.sha256));
    if (!served) {
      throw new DomainError(
        'MANIFEST_INVALID',
        `URI ${uri} is not a resource this server serves for the uploaded slots ` +
          `(/fw/${rules.product}/${rules.board}/slotN.${rules.seq}.bin)`,
      );
    }
  }
}
