import type { KeyObject } from 'node:crypto';
import { DomainError } from '../errors.js';
import { publicKeyCArray, rawPublicKey } from '../manifests/index.js';
import { keyAlgorithm } from './key-material.js';

export type KeyExportFormat = 'pem' | 'raw' | 'c-array';
export const KEY_EXPORT_FORMATS: readonly KeyExportFormat[] = ['pem', 'raw', 'c-array'];

/**
 * The header RIOT's build writes to `riotbuild/public_key.h` (makefiles/suit.base.inc.mk, `$(SUIT_PUB_HDR)`):
 * `openssl ... | tail -c 32 | xxd -i` for each accepted key, inside `const uint8_t public_key[][32]`, which
 * `sys/suit/transport/worker.c` and `sys/suit/handlers_envelope.c` iterate. xxd -i prints twelve items a line.
 */
export function riotPublicKeyHeader(keys: KeyObject[]): string {
  const blocks = keys.map((key) => {
    const bytes = [...rawPublicKey(key)].map((b) => `0x${b.toString(16).padStart(2, '0')}`);
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i += 12) lines.push(`  ${bytes.slice(i, i + 12).join(', ')}`);
    return ` {\n${lines.join(',\n')}\n },\n`;
  });
  return `const uint8_t public_key[][32] = {\n${blocks.join('')}};\n`;
}

/**
 * The public half in the form a device build needs: PEM (ESP Arduino `public.key`, RIOT `<key>.pem.pub`),
 * raw (32 bytes Ed25519, 65 bytes uncompressed P-256), or a C array (RIOT's header for Ed25519).
 */
export function exportPublicKeyAs(key: KeyObject, format: KeyExportFormat): string | Buffer {
  if (format === 'pem') return key.export({ type: 'spki', format: 'pem' }).toString();
  const algorithm = keyAlgorithm(key);
  if (algorithm !== 'ed25519' && algorithm !== 'es256') {
    throw new DomainError(
      'KEY_INVALID',
      `${algorithm} keys have no raw or C form; ESP builds take the PEM (--format pem)`,
    );
  }
  if (format === 'raw') return rawPublicKey(key);
  return algorithm === 'ed25519' ? riotPublicKeyHeader([key]) : publicKeyCArray(key);
}
