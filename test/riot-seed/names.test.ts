import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  latestCopyName,
  publishPath,
  storedFileName,
  versionPart,
} from '../../src/core/riot-publish/names.js';
import { isDomainError } from '../../src/core/errors.js';

describe('RIOT seed names (seeds.md §1.2, §1.5)', () => {
  it('maps a publish id to one safe path segment', () => {
    assert.equal(publishPath('samr21-xpro_suit_update'), 'samr21-xpro_suit_update');
    assert.equal(publishPath('a/b\\c'), 'a_b_c');
    assert.equal(publishPath(' board app+x '), 'board_app_x');
    for (const bad of [
      undefined,
      '',
      '  ',
      '..',
      'a..b',
      '.hidden',
      '-x',
      'fw',
      'updates',
      'x'.repeat(129),
    ]) {
      assert.throws(
        () => publishPath(bad),
        (err) => isDomainError(err),
        String(bad),
      );
    }
  });

  it('stores a file under the base name of its field name', () => {
    assert.equal(storedFileName('/home/riot/bin/app-slot0.1.riot.bin'), 'app-slot0.1.riot.bin');
    assert.equal(storedFileName('C:\\build\\riot.suit.3.bin'), 'riot.suit.3.bin');
    for (const bad of ['build/..', 'dir/', '..', 'a b']) assert.throws(() => storedFileName(bad), bad);
  });

  it('copies signed manifests to .latest. and nothing else', () => {
    assert.equal(
      latestCopyName('app-riot.suitv4_signed.1557135946.bin'),
      'app-riot.suitv4_signed.latest.bin',
    );
    assert.equal(latestCopyName('app-slot0.riot.suit.1557135946.bin'), 'app-slot0.riot.suit.latest.bin');
    assert.equal(latestCopyName('riot.suit.42.bin'), 'riot.suit.latest.bin');
    assert.equal(latestCopyName('app-riot.suitv4.1557135946.bin'), undefined);
    assert.equal(latestCopyName('riot.suit.latest.bin'), undefined);
    assert.equal(latestCopyName('field.name'), undefined);
  });

  it('reads the version a file name carries as the seed page did', () => {
    assert.equal(versionPart('app-slot0.1557135946.riot.bin'), '1557135946');
    assert.equal(versionPart('app-riot.suitv4_signed.1557135946.bin'), '1557135946');
    assert.equal(versionPart('riot.suit.latest.bin'), 'latest');
    assert.equal(versionPart('slot0.bin'), undefined);
  });
});
