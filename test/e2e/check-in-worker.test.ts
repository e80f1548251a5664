import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LARGE_FLEET } from '../../src/storage/sql/device-writer.js';
import { spawnServer, tempDir } from '../support/server.js';

const STARTED = /SQLite check-in worker started for a large fleet/;

/** `count` devices written straight into a stopped server's database (the API would take minutes). */
function fillRegistry(file: string, count: number): void {
  const db = new Database(file);
  try {
    const insert = db.prepare(
      `insert into devices (id, product, version, first_seen, last_seen, protocol, attributes)
       values (?, 'p', '1.0.0', ?, ?, 'esp8266-httpupdate', '{}')`,
    );
    const at = new Date().toISOString();
    db.transaction(() => {
      for (let i = 0; i < count; i++) insert.run(`dev-${i}`, at, at);
    })();
  } finally {
    db.close();
  }
}

/**
 * ADR 0001: the SQLite check-in worker starts when a flush is slow, and at start-up for a large registry, whose
 * first flush after a restart (the fleet checking in again) would otherwise hold the event loop.
 */
describe('serve and the SQLite check-in worker', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it(`starts the worker before it serves a registry of ${LARGE_FLEET} devices, and not for a small one`, async () => {
    const data = await tempDir();
    dirs.push(data);
    let server = await spawnServer(data);
    await server.stop('SIGTERM');
    assert.doesNotMatch(server.output(), STARTED, 'an empty registry writes on the main thread');

    fillRegistry(join(data, 'updraft.db'), LARGE_FLEET);
    server = await spawnServer(data);
    try {
      assert.match(server.output(), STARTED);
      assert.match(server.output(), new RegExp(`"devices":${LARGE_FLEET}`));
    } finally {
      await server.stop('SIGTERM');
    }
  });
});
