import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { dashboardRoot, registerDashboard } from '../../src/transports/http/dashboard.js';
import { tempDir } from '../support/server.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

test('the dashboard is found from src/ (tsx) and from dist/src/ (tsc)', () => {
  const expected = join(REPO, 'web', 'dist');
  assert.equal(dashboardRoot(join(REPO, 'src', 'transports', 'http')), expected);
  assert.equal(dashboardRoot(join(REPO, 'dist', 'src', 'transports', 'http')), expected);
});

test('claims only its own files: index at /, hashed assets cached for a year', async () => {
  const root = await tempDir('updraft-web-');
  await mkdir(join(root, 'assets'));
  await writeFile(join(root, 'index.html'), '<!doctype html><title>Updraft</title>');
  await writeFile(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
  const app = Fastify();
  await registerDashboard(app, { root });
  // A device family's own top-level route must still win everything the dashboard does not serve.
  app.get('/:product', async () => 'device route');
  try {
    const index = await app.inject('/');
    assert.equal(index.statusCode, 200);
    assert.equal(index.headers['cache-control'], 'no-cache');
    const asset = await app.inject('/assets/index-abc123.js');
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal((await app.inject('/firmware')).body, 'device route');
    assert.equal((await app.inject('/assets/other.js')).statusCode, 404);
  } finally {
    await app.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('says how to build it when web/dist is missing', async () => {
  const app = Fastify();
  await registerDashboard(app, { root: join(REPO, 'no-such-folder') });
  const res = await app.inject('/');
  assert.equal(res.statusCode, 503);
  assert.match(res.body, /npm run build/);
  await app.close();
});
