import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fletcher32, riotbootHeader, riotbootHeaderProblem } from '../../src/core/manifests/riotboot.js';

/** Little-endian 16-bit words of an ASCII string, padded with a zero byte, as RIOT's checksum tests pass them. */
function words(text: string): number[] {
  const bytes = Buffer.alloc(Math.ceil(text.length / 2) * 2);
  bytes.write(text, 'latin1');
  return Array.from({ length: bytes.length / 2 }, (_, i) => bytes.readUInt16LE(i * 2));
}

describe('riotboot header (RIOT sys/riotboot/hdr.c)', () => {
  it('computes Fletcher-32 as RIOT does: the vectors of its own unit tests', () => {
    // RIOT tests/unittests/tests-checksum (fletcher32): "abcde" (padded), "abcdef", "abcdefgh".
    assert.equal(fletcher32(words('abcde')), 0xf04fc729);
    assert.equal(fletcher32(words('abcdef')), 0x56502d2a);
    assert.equal(fletcher32(words('abcdefgh')), 0xebe19591);
    // Past one 359-word block: the reduction between blocks must not lose carries.
    const long = Array.from({ length: 1000 }, () => 0xffff);
    let a = 0xffff;
    let b = 0xffff;
    for (const w of long) {
      a = (a + w) % 0xffff;
      b = (b + a) % 0xffff;
    }
    const folded = (fletcher32(long) >>> 16) % 0xffff === b && (fletcher32(long) & 0xffff) % 0xffff === a;
    assert.ok(folded, 'the same sums modulo 65535 as the textbook definition');
  });

  it('accepts the header genhdr writes and refuses a wrong magic or checksum', () => {
    const header = riotbootHeader(1700000000, 0x1100);
    assert.equal(header.toString('latin1', 0, 4), 'RIOT');
    assert.equal(riotbootHeaderProblem(header), undefined);
    const magic = Buffer.from(header);
    magic[0] = 0x52 ^ 0x20;
    assert.match(riotbootHeaderProblem(magic) ?? '', /does not start with "RIOT"/);
    const version = Buffer.from(header);
    version.writeUInt32LE(1700000001, 4); // the checksum covers magic, version and start address
    assert.match(riotbootHeaderProblem(version) ?? '', /checksum/);
    assert.match(riotbootHeaderProblem(header.subarray(0, 15)) ?? '', /shorter/);
  });
});
