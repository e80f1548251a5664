import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions } from '../../src/core/versions/compare.js';
import { parseSemVer } from '../../src/core/versions/semver.js';
import { newestFirst, normalizeVersion } from '../../src/core/versions/release-version.js';
import { decideUpdate } from '../../src/core/updates/decide-update.js';
import type { Release } from '../../src/core/catalog/types.js';
import { isDomainError } from '../../src/core/errors.js';

describe('versions', () => {
  it('normalises short forms and a leading v', () => {
    assert.equal(normalizeVersion('1.2'), '1.2.0');
    assert.equal(normalizeVersion('0.1'), '0.1.0');
    assert.equal(normalizeVersion('3'), '3.0.0');
    assert.equal(normalizeVersion('v1.0.1'), '1.0.1');
    assert.equal(normalizeVersion('1.0.0-rc.1+build.5'), '1.0.0-rc.1+build.5');
  });

  it('normalises four-part versions and keeps any other safe name as it is (opaque)', () => {
    assert.equal(normalizeVersion('v2.2.0.0'), '2.2.0.0');
    assert.equal(normalizeVersion('1.2.0.1'), '1.2.0.1');
    for (const name of ['test', 'osm-fw-1.2', '2024-05-16', '1.x', '01.2.3', '1.2.3.4.5', 'v1.2-rc1']) {
      assert.equal(normalizeVersion(name), name, name);
    }
    assert.equal(parseSemVer('2024-05-16'), undefined, 'never SemVer 2024.0.0-05-16');
    assert.equal(parseSemVer('1-rc.1'), undefined);
  });

  it('rejects what is no safe name, and "latest", with INVALID_VERSION', () => {
    for (const bad of [
      '',
      'latest',
      'LATEST',
      '.hidden',
      'a b',
      'a/b',
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

  it('compares numeric pre-release identifiers of any length as digit strings', () => {
    assert.deepEqual(parseSemVer('1.0.0-rc.11')?.prerelease, ['rc', '11']);
    assert.equal(compareVersions('1.0.0-9007199254740993', '1.0.0-9007199254740992'), 1);
    assert.equal(compareVersions('1.0.0-' + '9'.repeat(30), '1.0.0-1' + '0'.repeat(30)), -1);
    assert.equal(compareVersions('1.0.0-' + '1'.repeat(30), '1.0.0-' + '1'.repeat(30)), 0);
    assert.equal(compareVersions('1.0.0-2', '1.0.0-10'), -1);
    assert.equal(compareVersions('1.0.0-10', '1.0.0-a'), -1, 'numeric below alphanumeric');
  });

  it('orders four-part versions as numeric tuples beside SemVer', () => {
    const ordered = ['1.2.0-rc.1', '1.2.0.0', '1.2.0.1', '1.2.1', '1.3', 'v1.3.0.1', '2.2.0.0', '10.0.0.0'];
    for (let i = 0; i < ordered.length - 1; i++) {
      assert.equal(compareVersions(ordered[i] as string, ordered[i + 1] as string), -1, ordered[i]);
      assert.equal(compareVersions(ordered[i + 1] as string, ordered[i] as string), 1, ordered[i]);
    }
    assert.equal(compareVersions('1.2.0', '1.2.0.0'), 0);
    assert.equal(compareVersions('v2.2.0.0', '2.2.0.0'), 0);
  });

  const release = (version: string, createdAt: string, label: string | null = null): Release => ({
    id: version,
    product: 'p',
    version,
    label,
    notes: '',
    state: 'published',
    createdAt,
    publishedAt: createdAt,
    revokedAt: null,
    artifacts: [{ name: 'ota.bin', size: 1, sha256: version, md5: version, contentType: 'x' }],
  });

  it('orders numeric releases by number and a product with opaque versions by publish time', () => {
    const numeric = newestFirst([
      release('1.3.0', '2026-01-01'),
      release('1.2.0.1', '2026-01-03'),
      release('1.2.0.0', '2026-01-02'),
    ]);
    assert.deepEqual(
      numeric.map((r) => r.version),
      ['1.3.0', '1.2.0.1', '1.2.0.0'],
    );
    const mixed = newestFirst([
      release('test', '2026-01-01'),
      release('2024-05-16', '2026-01-03'),
      release('osm-fw-1.2', '2026-01-02'),
      release('2.0.0', '2026-01-04'),
    ]);
    assert.deepEqual(
      mixed.map((r) => r.version),
      ['2.0.0', '2024-05-16', 'osm-fw-1.2', 'test'],
    );
  });

  it('decides opaque versions by the release order, never by parsing them', () => {
    const published = newestFirst([release('test', '2026-01-01'), release('2024-05-16', '2026-01-02')]);
    const decide = (version: string) =>
      decideUpdate({ published, artifactNames: ['ota.bin'], report: { version } });
    assert.equal(decide('test').kind, 'update', 'an older release of the product');
    assert.equal(decide('2024-05-16').kind, 'none', 'runs the newest');
    assert.equal(decide('factory').kind, 'update', 'runs something the product does not list');
    const later = newestFirst([...published, release('2023-01-01', '2026-01-03')]);
    const decision = decideUpdate({
      published: later,
      artifactNames: ['ota.bin'],
      report: { version: '2024-05-16' },
    });
    assert.equal(decision.kind, 'update', 'published later is newer, whatever the name says');
  });
});
