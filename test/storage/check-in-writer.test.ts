import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createDeviceRegistry } from '../../src/core/devices/device-registry.js';
import type { PendingCheckIn } from '../../src/core/devices/fold-check-ins.js';
import { migrate, openDatabase, type SqlConnection } from '../../src/storage/sql/connection.js';
import { createSqlDeviceRepository } from '../../src/storage/sql/device-repository.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function fileDatabase(): Promise<{ connection: SqlConnection; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'updraft-writer-'));
  dirs.push(dir);
  const file = join(dir, 'updraft.db');
  const connection = await openDatabase(`sqlite:${file}`);
  await migrate(connection);
  return { connection, file };
}

/** What another process would find in the file: a connection of its own, opened after the write. */
function onDisk(file: string, sql: string): unknown[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

const checkIn = (i: number, at = '2026-03-01T00:00:00.000Z'): PendingCheckIn => ({
  deviceId: `dev-${i}`,
  product: 'p',
  version: '1.0.0',
  protocol: 'test',
  at,
});

describe('SQLite check-in writer (worker thread)', () => {
  it('is used for a SQLite file and not for ":memory:" (a worker cannot share that database)', async () => {
    const memory = await openDatabase('sqlite::memory:');
    assert.equal(memory.checkInWriter, undefined);
    await memory.close();
    const { connection } = await fileDatabase();
    assert.ok(connection.checkInWriter);
    await connection.close();
  });

  it('writes flushed check-ins to the file, off the event loop: a lock held elsewhere blocks only the worker', async () => {
    const { connection, file } = await fileDatabase();
    const registry = createDeviceRegistry({
      devices: createSqlDeviceRepository(connection.db, connection.dialect, connection.checkInWriter),
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 600; i++)
      registry.checkIn({ deviceId: `dev-${i}`, product: 'p', version: '1.0.0', protocol: 'test' });
    // Another connection takes the write lock and gives it back from a timer 300 ms later. An in-thread
    // flush would wait for it inside better-sqlite3 (busy_timeout) with the event loop stopped, so the timer
    // could not fire before the 5 s timeout; through the worker, this thread keeps running its timers.
    const blocker = new Database(file);
    blocker.exec('begin immediate');
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    setTimeout(() => blocker.exec('commit'), 300);
    const started = performance.now();
    await registry.flush();
    const took = performance.now() - started;
    clearInterval(ticker);
    blocker.close();
    assert.ok(took >= 250, `the flush waited for the lock (${Math.round(took)} ms)`);
    assert.ok(ticks >= 10, `the event loop ran during the flush (${ticks} ticks of 10 ms)`);
    assert.deepEqual(onDisk(file, 'select count(*) as n from devices'), [{ n: 600 }]);
    assert.deepEqual(onDisk(file, "select count(*) as n from device_events where kind = 'check-in'"), [
      { n: 600 },
    ]);
    assert.equal(
      (await registry.get('dev-599')).version,
      '1.0.0',
      'the main connection reads what the worker wrote',
    );
    await registry.stop();
    await connection.close();
  });

  it('close() drains the worker: batches handed over before it are written, later ones refused', async () => {
    const { connection, file } = await fileDatabase();
    const writer = connection.checkInWriter;
    assert.ok(writer);
    await writer.writeCheckIns({ checkIns: [checkIn(0)], events: [], prune: [], historyLimit: 100 });
    const handedOver = [1, 2, 3].map((n) =>
      writer.writeCheckIns({
        checkIns: Array.from({ length: 200 }, (_, i) => checkIn(n * 1000 + i)),
        events: [],
        prune: [],
        historyLimit: 100,
      }),
    );
    await connection.close();
    assert.equal((await Promise.all(handedOver)).flat().length, 600, 'each new device moved onto 1.0.0');
    assert.deepEqual(onDisk(file, 'select count(*) as n from devices'), [{ n: 601 }]);
    await assert.rejects(
      writer.writeCheckIns({ checkIns: [checkIn(9)], events: [], prune: [], historyLimit: 100 }),
      /closed/,
    );
  });

  it('start() boots the worker before any write, once, and fails loudly when the worker cannot open the file', async () => {
    const { connection, file } = await fileDatabase();
    const writer = connection.checkInWriter;
    assert.ok(writer);
    const starting = writer.start();
    assert.equal(writer.start(), starting, 'a second start() waits for the same worker');
    await starting;
    await writer.writeCheckIns({ checkIns: [checkIn(0)], events: [], prune: [], historyLimit: 100 });
    assert.deepEqual(onDisk(file, 'select id from devices'), [{ id: 'dev-0' }]);
    await connection.close();

    // The file is replaced by a folder before the worker starts: serve must not come up with a writer that
    // cannot write.
    const gone = await fileDatabase();
    await rm(join(gone.file, '..'), { recursive: true, force: true });
    await mkdir(gone.file, { recursive: true });
    await assert.rejects(gone.connection.checkInWriter!.start(), /unable to open|exit code|SQLITE_CANTOPEN/);
    await gone.connection.close();
  });

  it('a failed batch fails its caller and the worker goes on with the next one', async () => {
    const { connection, file } = await fileDatabase();
    const writer = connection.checkInWriter;
    assert.ok(writer);
    const broken = new Database(file);
    broken.exec(
      "create trigger no_bad before insert on devices when new.id = 'bad' begin select raise(abort, 'bad device'); end",
    );
    broken.close();
    await assert.rejects(
      writer.writeCheckIns({
        checkIns: [{ ...checkIn(0), deviceId: 'bad' }],
        events: [],
        prune: [],
        historyLimit: 100,
      }),
      /bad device/,
    );
    await writer.writeCheckIns({ checkIns: [checkIn(1)], events: [], prune: [], historyLimit: 100 });
    assert.deepEqual(onDisk(file, 'select id from devices'), [{ id: 'dev-1' }]);
    await connection.close();
  });
});
