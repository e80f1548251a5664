import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generateKeyPairSync } from 'node:crypto';
import { scratch } from '../manifests/fixtures.js';

const FIXTURES = new URL('../fixtures/suit/riot-draft09/', import.meta.url);
const path = (name: string) => fileURLToPath(new URL(name, FIXTURES));

function updraft(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('updraft manifest inspect / verify', () => {
  it('inspect prints the decoded manifest and exits 0', () => {
    const r = updraft(['manifest', 'inspect', path('riot.suit.1700000000.bin')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /1700000000/);
    assert.match(r.stdout, /slot0\.1700000000\.bin/);
    assert.match(r.stdout, /EdDSA/);
    const bad = updraft(['manifest', 'inspect', path('slot0.1700000000.bin')]);
    assert.equal(bad.status, 1);
  });

  it('verify exits 0 only for a valid signature, manifest digest and image digests', () => {
    const files = scratch();
    try {
      const wrongSlot = files.write('slot1.1700000000.bin', Buffer.alloc(1000));
      const otherKey = files.write(
        'other.pem',
        generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      );
      const signed = path('riot.suit.1700000000.bin');
      const images = [
        '--image',
        path('slot0.1700000000.bin'),
        '--image',
        `slot1.1700000000.bin=${path('slot1.1700000000.bin')}`,
      ];
      const cases: [string, string[], number, RegExp][] = [
        ['PEM key', [signed, '--key', path('test-only-ed25519-public.pem')], 0, /OK: riot-09/],
        [
          'raw key and both images',
          [signed, '--key', path('test-only-ed25519-public.raw'), ...images],
          0,
          /2 image/,
        ],
        [
          'tampered',
          [path('riot.suit.1700000000.tampered.bin'), '--key', path('test-only-ed25519-public.pem')],
          1,
          /DIGEST_MISMATCH/,
        ],
        [
          'unsigned',
          [path('riot.suit_unsigned.1700000000.bin'), '--key', path('test-only-ed25519-public.pem')],
          1,
          /SIGNATURE_INVALID/,
        ],
        ['other key', [signed, '--key', otherKey], 1, /SIGNATURE_INVALID/],
        [
          'wrong image',
          [
            signed,
            '--key',
            path('test-only-ed25519-public.pem'),
            '--image',
            path('slot0.1700000000.bin'),
            '--image',
            wrongSlot,
          ],
          1,
          /DIGEST_MISMATCH: image slot1/,
        ],
      ];
      for (const [what, args, status, output] of cases) {
        const r = updraft(['manifest', 'verify', ...args]);
        assert.equal(r.status, status, `${what}: ${r.stdout}${r.stderr}`);
        assert.match(r.stdout + r.stderr, output, what);
      }
      const noKey = updraft(['manifest', 'verify', signed]);
      assert.notEqual(noKey.status, 0);
    } finally {
      files.done();
    }
  });
});
