import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { tempDir } from '../support/server.js';
import { killLoop, ROUNDS } from './kill-loop.js';

describe(`kill -9 during publishes on SQLite, ${ROUNDS} rounds`, () => {
  let data: string;
  after(() => rm(data, { recursive: true, force: true }));

  it('every listed release is complete and byte-exact, and no acknowledged one is lost', async (t) => {
    data = await tempDir();
    const { acknowledged, listed } = await killLoop(data, {});
    t.diagnostic(`${acknowledged} releases acknowledged before a kill, ${listed} listed at the end`);
    assert.ok(acknowledged > 0, 'some uploads completed between kills');
  });
});
