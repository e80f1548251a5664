import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ERROR_CODES } from '../../src/core/errors.js';
import { formatCode } from '../../src/transports/coap/message.js';
import { COAP_CODES } from '../../src/transports/coap/adapters/error-codes.js';

describe('docs/coap.md error table', () => {
  it('lists exactly the domain error codes, with their CoAP code', async () => {
    const doc = await readFile(new URL('../../docs/coap.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d\.\d\d) \|/gm)].map((m) => [m[1] ?? '', m[2] ?? '']);
    assert.deepEqual(rows.map((r) => r[0]).sort(), Object.keys(ERROR_CODES).sort());
    for (const [code, coap] of rows) {
      assert.equal(formatCode(COAP_CODES[code as keyof typeof COAP_CODES]), coap, code);
    }
  });
});
