import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRange, satisfies } from '../../src/core/versions/range.js';
import { matchesFilter, parseFilter, type DeviceFacts } from '../../src/core/groups/filter.js';
import { inWindow, parseWindow, secondsUntilWindow } from '../../src/core/deployments/window.js';
import { parseWaves, positionOf, waveBounds, waveOf } from '../../src/core/deployments/waves.js';
import { thresholdCrossed } from '../../src/core/deployments/scheduler.js';
import { compileTarget } from '../../src/core/deployments/target.js';
import { emptyCounts } from '../../src/core/deployments/types.js';
import type { DeploymentRow } from '../../src/core/deployments/ports.js';
import { isDomainError } from '../../src/core/errors.js';

const inRange = (range: string, version: string) => {
  const r = parseRange(range);
  assert.ok(r, `${range} parses`);
  return satisfies(version, r);
};

describe('SemVer ranges', () => {
  it('follows npm semantics for comparators, tilde, caret, partials and ||', () => {
    const cases: [string, string, boolean][] = [
      ['<2.3.0', '2.2.9', true],
      ['<2.3.0', '2.3.0', false],
      ['<2.3.0', '2.3.0-rc.1', true],
      ['>=1.0.0 <2.0.0', '1.9.9', true],
      ['>=1.0.0 <2.0.0', '2.0.0', false],
      ['>= 1.0.0 < 2.0.0', '0.9.0', false],
      ['~1.4', '1.4.7', true],
      ['~1.4', '1.5.0', false],
      ['~1.4.2', '1.4.1', false],
      ['~1', '1.9.0', true],
      ['^2', '2.9.1', true],
      ['^2', '3.0.0', false],
      ['^0.2.3', '0.2.9', true],
      ['^0.2.3', '0.3.0', false],
      ['^0.0.3', '0.0.4', false],
      ['1.4', '1.4.9', true],
      ['1.4', '1.5.0', false],
      ['=1.2.3', '1.2.3', true],
      ['v1.2.3', '1.2.3', true],
      ['<=1.4', '1.4.9', true],
      ['>1.4', '1.4.9', false],
      ['>1.4', '1.5.0', true],
      ['<1.0.0 || >=3.0.0', '3.1.0', true],
      ['<1.0.0 || >=3.0.0', '2.0.0', false],
      ['*', '5.0.0', true],
    ];
    for (const [range, version, expected] of cases) {
      assert.equal(inRange(range, version), expected, `${version} in ${range}`);
    }
    assert.equal(inRange('<2.0.0', 'not-a-version'), false);
  });

  it('rejects what is not a range', () => {
    for (const bad of ['', '<', 'abc', '~>1.0', '1.2.3.4', '||', '^~1'])
      assert.equal(parseRange(bad), undefined, bad);
  });
});

describe('filter expressions', () => {
  const device = (over: Partial<DeviceFacts> = {}): DeviceFacts => ({
    id: 'aa:bb:cc:dd:ee:ff',
    product: 'sensor',
    version: '1.4.2',
    tags: new Set(['eu', 'lab']),
    attributes: { 'chip-size': '4194304', 'sdk-version': '2.5.0' },
    lastSeen: '2026-06-01T12:00:00.000Z',
    ...over,
  });
  const now = new Date('2026-06-02T12:00:00.000Z');
  const match = (expr: string, d = device()) => matchesFilter(parseFilter(expr), d, now);

  it('combines product, version range, tags (all / any), attributes and last-seen age', () => {
    assert.equal(match('product=sensor version<2.0.0'), true);
    assert.equal(match('product=other'), false);
    assert.equal(match('version=">=1.0.0 <2.0.0" and tag=eu,lab'), true);
    assert.equal(match('version=~1.4'), true);
    assert.equal(match('version=^2'), false);
    assert.equal(match('tag=eu,us'), false);
    assert.equal(match('tag-any=eu,us'), true);
    assert.equal(match('tag-any=us,asia'), false);
    assert.equal(match('attr.chip-size=4194304 attr.sdk-version="2.5.0"'), true);
    assert.equal(match('attr.chip-size=1048576'), false);
    assert.equal(match('seen<2d'), true);
    assert.equal(match('seen<12h'), false);
    assert.equal(match('seen>12h'), true);
    assert.equal(match('version<2.0.0', device({ version: null })), false, 'no version, no range match');
  });

  it('names the first thing that is wrong', () => {
    const cases: [string, RegExp][] = [
      ['', /non-empty/],
      ['colour=red', /expected product=/],
      ['version=banana', /not a SemVer range/],
      ['seen=7d', /seen takes </],
      ['seen<7 weeks', /expected product=|duration/],
      ['tag=', /needs a value|tag/],
      ['tag=a b', /expected/],
      ['attr.x="open', /unterminated quote/],
      ['tag=-x', /tag "-x"/],
    ];
    for (const [expr, message] of cases) {
      assert.throws(
        () => parseFilter(expr),
        (err: unknown) => isDomainError(err, 'INVALID_INPUT') && message.test((err as Error).message),
        expr,
      );
    }
  });
});

describe('maintenance windows', () => {
  it('uses the IANA time zone, DST included, and spans midnight when the end is before the start', () => {
    const berlin = { window: parseWindow('01:00-05:00@Europe/Berlin') };
    // 00:30 UTC in winter is 01:30 in Berlin (UTC+1); in summer 02:30 (UTC+2).
    assert.equal(inWindow(berlin, new Date('2026-01-15T00:30:00Z')), true);
    assert.equal(inWindow(berlin, new Date('2026-01-15T04:30:00Z')), false, '05:30 local');
    assert.equal(inWindow(berlin, new Date('2026-07-15T02:30:00Z')), true, '04:30 CEST');
    assert.equal(inWindow(berlin, new Date('2026-07-15T03:30:00Z')), false, '05:30 CEST');
    const night = { window: parseWindow({ start: '22:00', end: '02:00', timeZone: 'UTC' }) };
    assert.equal(inWindow(night, new Date('2026-01-15T23:00:00Z')), true);
    assert.equal(inWindow(night, new Date('2026-01-15T01:59:00Z')), true);
    assert.equal(inWindow(night, new Date('2026-01-15T02:00:00Z')), false);
    assert.equal(secondsUntilWindow(night, new Date('2026-01-15T21:00:00Z')), 3600);
    assert.equal(inWindow({}, new Date()), true, 'no window: always');
  });

  it('rejects bad times and unknown zones', () => {
    for (const bad of ['25:00-01:00', '01:00-01:00', '1:00-2:00', '01:00-02:00@Mars/Olympus']) {
      assert.throws(
        () => parseWindow(bad),
        (err: unknown) => isDomainError(err, 'INVALID_INPUT'),
        bad,
      );
    }
  });
});

describe('waves', () => {
  it('places devices by a stable hash in [0, 1): the same canary every time', () => {
    const p = positionOf('dep-1', 'aa:bb:cc:dd:ee:ff');
    assert.equal(p, positionOf('dep-1', 'aa:bb:cc:dd:ee:ff'));
    assert.notEqual(p, positionOf('dep-2', 'aa:bb:cc:dd:ee:ff'));
    // The rule itself (the first 48 bits of SHA-256("dep-1\0aa:bb:cc:dd:ee:ff")): a change would move devices of a
    // running deployment between waves when a replica is upgraded.
    assert.equal(p, 0xc8a9f9b888ec / 2 ** 48);
    const positions = Array.from({ length: 10_000 }, (_, i) => positionOf('dep-1', `dev-${i}`));
    assert.ok(positions.every((x) => x >= 0 && x < 1));
    const firstTenth = positions.filter((x) => x < 0.1).length;
    assert.ok(firstTenth > 850 && firstTenth < 1150, `about 10% in the first 10% (${firstTenth})`);
  });

  it('turns percentages and counts into bounds', () => {
    const pct = waveBounds(parseWaves(['1%', '10%', '100%']), []);
    assert.deepEqual(
      pct.map((w) => w.upTo),
      [0.01, 0.1, 1],
    );
    assert.equal(waveOf(pct, 0.05), 1);
    assert.equal(waveOf(waveBounds(parseWaves(['50%']), []), 0.7), undefined, 'beyond the last wave');
    const sorted = [0.1, 0.2, 0.3, 0.4, 0.5];
    const counts = waveBounds(parseWaves(['2', '4', '10']), sorted);
    assert.deepEqual(
      counts.map((w) => w.upTo),
      [0.3, 0.5, 1],
    );
    assert.deepEqual(
      sorted.map((x) => waveOf(counts, x)),
      [0, 0, 1, 1, 2],
    );
    for (const bad of [['10%', '5%'], ['1%', '10'], ['0%'], ['101%'], ['1.5'], []]) {
      assert.throws(
        () => parseWaves(bad),
        (err: unknown) => isDomainError(err, 'INVALID_INPUT'),
        bad.join(),
      );
    }
  });
});

describe('failure threshold', () => {
  const row = (maxFailures: string, minFinal: number, failureBase = 0) =>
    ({ spec: { maxFailures, minFinal }, failureBase }) as unknown as DeploymentRow;
  const counts = (succeeded: number, failed: number, timedOut: number) => ({
    ...emptyCounts(),
    succeeded,
    failed,
    'timed-out': timedOut,
  });

  it('is judged once enough devices are final, as a percentage or a count, above the limit', () => {
    assert.equal(thresholdCrossed(row('20%', 10), counts(4, 4, 0)).crossed, false, 'only 8 final');
    assert.equal(thresholdCrossed(row('20%', 10), counts(8, 2, 0)).crossed, false, 'exactly 20% is allowed');
    assert.equal(thresholdCrossed(row('20%', 10), counts(7, 2, 1)).crossed, true);
    assert.equal(thresholdCrossed(row('3', 1), counts(0, 3, 0)).crossed, false);
    assert.equal(thresholdCrossed(row('3', 1), counts(0, 3, 1)).crossed, true);
    assert.equal(thresholdCrossed(row('0', 1), counts(5, 1, 0)).crossed, true, 'zero tolerance');
    assert.equal(
      thresholdCrossed(row('1', 1, 2), counts(5, 3, 0)).crossed,
      false,
      'two acknowledged on resume',
    );
    assert.match(
      thresholdCrossed(row('20%', 10), counts(7, 2, 1)).reason,
      /^3 of 10 devices in a final state failed \(2 failed, 1 timed out; 7 succeeded\), threshold 20%$/,
    );
  });
});

describe('targets', () => {
  const device = (id: string, version: string): DeviceFacts => ({
    id,
    product: 'p',
    version,
    tags: new Set(),
    attributes: {},
    lastSeen: '2026-12-01T00:00:00.000Z',
  });
  const now = new Date('2026-12-01T00:00:00Z');

  it('knows when it is the whole product, so a check-in can skip the device facts', () => {
    const all = compileTarget({ groups: [], devices: [], filter: null });
    assert.equal(all.everyone, true);
    assert.equal(all(device('a', '1.0.0'), new Map(), now), true);
    const filtered = compileTarget({ groups: [], devices: [], filter: 'version < 2.0.0' });
    assert.equal(filtered.everyone, false);
    assert.equal(filtered(device('a', '1.0.0'), new Map(), now), true);
    assert.equal(filtered(device('b', '2.1.0'), new Map(), now), false);
    const listed = compileTarget({ groups: [], devices: ['a'], filter: null });
    assert.equal(listed.everyone, false);
    assert.equal(listed(device('b', '1.0.0'), new Map(), now), false);
  });
});
