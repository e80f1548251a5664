import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ERROR_CODES } from '../../src/core/errors.js';
import { HTTP_STATUS } from '../../src/transports/http/error-status.js';

describe('docs/errors.md', () => {
  it('lists exactly the domain error codes, with their HTTP status', async () => {
    const doc = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    assert.deepEqual(rows.map((r) => r[0]).sort(), Object.keys(ERROR_CODES).sort());
    for (const [code, status] of rows)
      assert.equal(HTTP_STATUS[code as keyof typeof HTTP_STATUS], status, String(code));
  });
});
