import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../support/server.js';

/**
 * A fresh install in this tree prints no EBADENGINE on the oldest Node it supports (issue 15): light-my-request
 * (fastify's) asks for cookie 2, which declares Node >= 22; package.json's `overrides` give it cookie 1. npm's own
 * engine check runs on a dry run of `npm ci` from package.json and the lock file, offline (nothing is fetched:
 * a fresh machine's npm cache holds the locked tarballs but no registry metadata to resolve anything else).
 */
describe('npm install', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('updraft-engines-');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const dryRun = () =>
    spawnSync('npm', ['ci', '--dry-run', '--ignore-scripts', '--offline', '--no-audit', '--no-fund'], {
      cwd: dir,
      encoding: 'utf8',
    });

  it('warns EBADENGINE for no dependency, and would without the overrides', async () => {
    const manifest = JSON.parse(await readFile('package.json', 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'package.json'), JSON.stringify(manifest));
    await copyFile('package-lock.json', join(dir, 'package-lock.json'));
    const clean = dryRun();
    assert.equal(clean.status, 0, clean.stderr);
    assert.doesNotMatch(clean.stdout + clean.stderr, /EBADENGINE/);

    // What the override replaces: light-my-request's own range, which npm would resolve to cookie 2.
    const lmr = JSON.parse(await readFile('node_modules/light-my-request/package.json', 'utf8')) as {
      dependencies: Record<string, string>;
    };
    assert.match(lmr.dependencies.cookie ?? '', /^\^2\./);

    // The check can fail: a lock file whose cookie declares what cookie 2 declares warns, on Node < 22. (Resolving
    // cookie 2 itself, by dropping the overrides, would need the registry, which tests never reach.)
    if (Number(process.versions.node.split('.')[0]) >= 22) return;
    const lock = JSON.parse(await readFile('package-lock.json', 'utf8')) as {
      packages: Record<string, { version: string; engines?: Record<string, string> }>;
    };
    const cookie = lock.packages['node_modules/light-my-request/node_modules/cookie'];
    assert.ok(cookie, 'the lock file resolves a cookie of its own under light-my-request');
    cookie.engines = { node: '>=22' };
    await writeFile(join(dir, 'package-lock.json'), JSON.stringify(lock));
    const bare = dryRun();
    assert.match(bare.stdout + bare.stderr, /EBADENGINE[\s\S]*cookie@/);
  });
});
