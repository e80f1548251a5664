/**
 * Devices identify by MAC in many spellings (`AA:BB:CC:DD:EE:FF`, `aa-bb-cc-dd-ee-ff`, `aabbccddeeff`). The
 * registry keys them in one form: lowercase, colon-separated.
 */
const MAC = /^[0-9a-f]{2}([:-]?)[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$/i;

const COLONS = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

export function normalizeMac(input: string): string | undefined {
  const value = input.trim();
  // The spelling nearly every device sends (ESP cores: `AA:BB:CC:DD:EE:FF`), checked on every check-in.
  if (COLONS.test(value)) return value.toLowerCase();
  // Mixed separators (`00:11-22:33-44:55`) are accepted by the simple-polling seed's regex; accept them too.
  if (!MAC.test(value) && !/^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i.test(value)) return undefined;
  const hex = value.replace(/[:-]/g, '').toLowerCase();
  return hex.match(/../g)?.join(':');
}
