import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideUpdate } from '../../src/core/updates/decide-update.js';
import type { Release } from '../../src/core/catalog/types.js';

function release(version: string, size = 1000, label: string | null = null): Release {
  return {
    id: version,
    product: 'p',
    version,
    label,
    notes: '',
    state: 'published',
    createdAt: '',
    publishedAt: '',
    revokedAt: null,
    artifacts: [
      {
        name: 'firmware.bin',
        size,
        sha256: `sha-${version}`,
        md5: `md5-${version}`,
        contentType: 'application/octet-stream',
      },
      {
        name: 'spiffs',
        size: 10,
        sha256: `fs-${version}`,
        md5: `fsmd5-${version}`,
        contentType: 'application/octet-stream',
      },
    ],
  };
}
const names = ['firmware.bin'];

describe('the update decision', () => {
  const published = [release('1.2.0'), release('1.1.0')];

  it('offers the newest published release to an older device', () => {
    const d = decideUpdate({ published, artifactNames: names, report: { version: '1.1.0' } });
    assert.equal(d.kind, 'update');
    assert.equal(d.release?.version, '1.2.0');
    assert.equal(d.kind === 'update' && d.artifact.name, 'firmware.bin');
  });

  it('never offers a lower or equal version', () => {
    for (const version of ['1.2.0', '1.2', 'v1.2.0', '1.3.0', '2.0.0-rc.1']) {
      const d = decideUpdate({ published, artifactNames: names, report: { version } });
      assert.equal(d.kind, 'none', version);
      assert.equal(d.kind === 'none' && d.reason, 'up-to-date');
    }
  });

  it('offers a release over its own pre-release', () => {
    assert.equal(
      decideUpdate({ published, artifactNames: names, report: { version: '1.2.0-beta.3' } }).kind,
      'update',
    );
  });

  it('answers "same image" when the running md5 or sha256 matches, even without a version', () => {
    const byMd5 = decideUpdate({ published, artifactNames: names, report: { imageMd5: 'MD5-1.2.0' } });
    assert.equal(byMd5.kind === 'none' && byMd5.reason, 'same-image');
    const bySha = decideUpdate({ published, artifactNames: names, report: { imageSha256: 'sha-1.2.0' } });
    assert.equal(bySha.kind === 'none' && bySha.reason, 'same-image');
    assert.equal(decideUpdate({ published, artifactNames: names, report: {} }).kind, 'update');
  });

  it('does not offer an image larger than the free space', () => {
    const d = decideUpdate({
      published: [release('2.0.0', 5000)],
      artifactNames: names,
      report: { version: '1.0.0', freeSpace: 4999 },
    });
    assert.equal(d.kind === 'none' && d.reason, 'insufficient-space');
    assert.equal(
      decideUpdate({
        published: [release('2.0.0', 5000)],
        artifactNames: names,
        report: { version: '1.0.0', freeSpace: 5000 },
      }).kind,
      'update',
    );
  });

  it('follows an operator pin, even downwards', () => {
    const pinned = release('1.0.0');
    const d = decideUpdate({ published, artifactNames: names, report: { version: '1.2.0' }, pinned });
    assert.equal(d.kind, 'update');
    assert.equal(d.release?.version, '1.0.0');
    const same = decideUpdate({ published, artifactNames: names, report: { version: '1.0.0' }, pinned });
    assert.equal(same.kind, 'none');
  });

  it('picks artifacts by preference and reports what is missing', () => {
    const fs = decideUpdate({
      published,
      artifactNames: ['littlefs', 'spiffs'],
      report: { version: '1.0.0' },
    });
    assert.equal(fs.kind === 'update' && fs.artifact.name, 'spiffs');
    const none = decideUpdate({ published, artifactNames: ['ota.bin'], report: { version: '1.0.0' } });
    assert.equal(none.kind === 'none' && none.reason, 'no-artifact');
    assert.equal(decideUpdate({ published: [], artifactNames: names, report: {} }).kind === 'none', true);
  });

  it('compares legacy device versions without crashing', () => {
    const legacy = [release('1.0.1', 1000, 'v1.0.1')];
    assert.equal(
      decideUpdate({ published: legacy, artifactNames: names, report: { version: 'v1' } }).kind,
      'update',
    );
    assert.equal(
      decideUpdate({ published: legacy, artifactNames: names, report: { version: 'v1.0.1' } }).kind,
      'none',
    );
    // Not SemVer on either side: natural order (docs/versions.md), where a text run sorts above a digit run, so
    // `garbage!` counts as newer than 1.0.1 and is left alone; `0garbage` sorts below it and is updated.
    const garbage = decideUpdate({
      published: legacy,
      artifactNames: names,
      report: { version: 'garbage!' },
    });
    assert.deepEqual(garbage.kind === 'none' && [garbage.reason, garbage.release?.version], [
      'up-to-date',
      '1.0.1',
    ]);
    const lower = decideUpdate({ published: legacy, artifactNames: names, report: { version: '0garbage' } });
    assert.equal(lower.kind === 'update' && lower.release.version, '1.0.1');
  });
});
