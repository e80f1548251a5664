import { DomainError } from '../errors.js';
import type { Product } from '../catalog/types.js';
import type { Esp32Hash } from '../manifests/index.js';

/**
 * `product.settings.suit`. Offsets are RIOT's `SLOT0_OFFSET` / `SLOT1_OFFSET` (makefiles/boot/riotboot.mk):
 * slot 0 starts after the bootloader, `RIOTBOOT_LEN` = 0x1000 by default; slot 1 at `SLOT0_OFFSET + SLOT0_LEN`,
 * half of the remaining flash rounded to a page, so it depends on the board (0x20800 on samr21-xpro). Ask the
 * build: `make BOARD=<board> info-debug-variable-SLOT1_OFFSET`.
 */
export interface SuitSettings {
  slot0Offset: number;
  slot1Offset: number | null;
  /** The key Updraft signs generated manifests with, and trusts for uploaded ones. */
  key: string | null;
  /** More keys (names in the key store) an uploaded manifest may be signed with. */
  trustedKeys: string[];
  /** RIOT's `SUIT_VENDOR`, hashed into the vendor id. */
  vendor: string;
  /** Refuse slot images without a valid riotboot header at publish (default true). */
  checkRiotbootHeader: boolean;
  /**
   * Hosts (`[fd00::1]`, `[fd00::1]:5683`, `ota.example.com`) an uploaded manifest's URIs may name besides this
   * server's CoAP public URL; `*` allows any. Default none.
   */
  allowedUriHosts: string[];
}

export interface EspSigningSettings {
  format: 'esp8266' | 'esp32';
  key: string;
  /** ESP32 only (`bin_signing.py --hash`); ESP8266 always signs SHA-256. */
  hash: Esp32Hash;
}

export const RIOTBOOT_LEN_DEFAULT = 0x1000;

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DomainError('INVALID_INPUT', `${where} must be an object`);
  }
  return value as Record<string, unknown>;
}

/** JSON has no hex literals, and operators copy offsets from the build as `0x20800`: both are accepted. */
function offset(value: unknown, where: string): number | null {
  if (value === undefined || value === null) return null;
  const n = typeof value === 'string' && /^(0x[0-9a-fA-F]+|\d+)$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new DomainError('INVALID_INPUT', `${where} must be a flash offset (a number or "0x..." string)`);
  }
  return n;
}

function name(value: unknown, where: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw new DomainError('INVALID_INPUT', `${where} must be a key name`);
  return value;
}

export function suitSettings(product: Product): SuitSettings {
  const raw = product.settings.suit === undefined ? {} : object(product.settings.suit, 'settings.suit');
  const trusted = raw.trustedKeys ?? [];
  if (!Array.isArray(trusted) || trusted.some((k) => typeof k !== 'string')) {
    throw new DomainError('INVALID_INPUT', 'settings.suit.trustedKeys must be a list of key names');
  }
  const vendor = raw.vendor ?? 'riot-os.org';
  if (typeof vendor !== 'string' || vendor === '') {
    throw new DomainError('INVALID_INPUT', 'settings.suit.vendor must be a domain name');
  }
  const check = raw.checkRiotbootHeader ?? true;
  if (typeof check !== 'boolean') {
    throw new DomainError('INVALID_INPUT', 'settings.suit.checkRiotbootHeader must be true or false');
  }
  const hosts = raw.allowedUriHosts ?? [];
  if (!Array.isArray(hosts) || hosts.some((h) => typeof h !== 'string' || h === '')) {
    throw new DomainError('INVALID_INPUT', 'settings.suit.allowedUriHosts must be a list of hosts');
  }
  return {
    checkRiotbootHeader: check,
    allowedUriHosts: (hosts as string[]).map((h) => h.toLowerCase()),
    slot0Offset: offset(raw.slot0Offset, 'settings.suit.slot0Offset') ?? RIOTBOOT_LEN_DEFAULT,
    slot1Offset: offset(raw.slot1Offset, 'settings.suit.slot1Offset'),
    key: name(raw.key, 'settings.suit.key'),
    trustedKeys: trusted as string[],
    vendor,
  };
}

/** `product.settings.espSigning`, or null when the product's images are not signed. */
export function espSigningSettings(product: Product): EspSigningSettings | null {
  if (product.settings.espSigning === undefined || product.settings.espSigning === null) return null;
  const raw = object(product.settings.espSigning, 'settings.espSigning');
  if (raw.format !== 'esp8266' && raw.format !== 'esp32') {
    throw new DomainError('INVALID_INPUT', 'settings.espSigning.format must be "esp8266" or "esp32"');
  }
  const key = name(raw.key, 'settings.espSigning.key');
  if (!key) throw new DomainError('INVALID_INPUT', 'settings.espSigning.key must name a signing key');
  const hash = raw.hash ?? 'sha256';
  if (hash !== 'sha256' && !(raw.format === 'esp32' && (hash === 'sha384' || hash === 'sha512'))) {
    throw new DomainError('INVALID_INPUT', 'settings.espSigning.hash: sha256 (or sha384/sha512 for esp32)');
  }
  return { format: raw.format, key, hash };
}
