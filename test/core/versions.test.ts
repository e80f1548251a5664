import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions } from '../../src/core/versions/compare.js';
import { normalizeVersion, parseSemVer } from '../../src/core/versions/semver.js';
import { isDomainError } from '../../src/core/errors.js';

describe('versions', () => {
  it('normalises short forms and a leading v', () => {
    assert.equal(normalizeVersion('1.2'), '1.2.0');
    assert.equal(normalizeVersion('0.1'), '0.1.0');
    assert.equal(normalizeVersion('3'), '3.0.0');
    assert.equal(normalizeVersion('v1.0.1'), '1.0.1');
    assert.equal(normalizeVersion('1.0.0-rc.1+build.5'), '1.0.0-rc.1+build.5');
  });

  it('rejects what is not SemVer with INVALID_VERSION', () => {
    for (const bad of [
      '',
      '1.x',
      '01.2.3',
      '1.2.3.4',
      'latest',
      '1.2.3-',
      '../1.0.0',
      '1.0.0/evil',
      'x'.repeat(300),
    ]) {
      assert.throws(
        () => normalizeVersion(bad),
        (err) => isDomainError(err, 'INVALID_VERSION'),
        bad,
      );
    }
    assert.throws(
      () => normalizeVersion(undefined),
      (err) => isDomainError(err, 'INVALID_VERSION'),
    );
  });

  it('orders by SemVer precedence: pre-releases below their release, build metadata ignored', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.2.0',
      '1.10.0',
      '2.0.0',
    ];
    for (let i = 0; i < ordered.length - 1; i++) {
      assert.equal(
        compareVersions(ordered[i] as string, ordered[i + 1] as string),
        -1,
        `${ordered[i]} < ${ordered[i + 1]}`,
      );
      assert.equal(compareVersions(ordered[i + 1] as string, ordered[i] as string), 1);
    }
    assert.equal(compareVersions('1.0.0+a', '1.0.0+b'), 0);
    assert.equal(compareVersions('1.2', '1.2.0'), 0);
    assert.equal(compareVersions('v1.0.1', '1.0.1'), 0);
  });

  it('orders legacy strings naturally and never throws', () => {
    assert.equal(compareVersions('v1', 'v1.0.1'), -1);
    assert.equal(compareVersions('build-9', 'build-10'), -1);
    assert.equal(compareVersions('2024.01.05-abc', '2024.1.6'), -1);
    assert.equal(compareVersions('release_7', 'release_7'), 0);
    for (const odd of ['', 'nan', '-inf', '💥', '1..2', '99999999999999999999999', 'v']) {
      assert.doesNotThrow(() => compareVersions(odd, '1.0.0'));
      assert.doesNotThrow(() => compareVersions('1.0.0', odd));
    }
    assert.equal(compareVersions('99999999999999999999998', '99999999999999999999999'), -1);
  });

  it('parses pre-release identifiers as numbers or text', () => {
    assert.deepEqual(parseSemVer('1.0.0-rc.11')?.prerelease, ['rc', 11]);
  });
});
