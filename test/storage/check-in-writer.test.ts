import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createDeviceRegistry } from '../../src/core/devices/device-registry.js';
import type { CheckInBatch, DeviceMove, PendingCheckIn } from '../../src/core/devices/fold-check-ins.js';
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

const batchOf = (...checkIns: PendingCheckIn[]): CheckInBatch => ({
  checkIns,
  events: [],
  historyLimit: 100,
  trimAbove: 125,
});

/** The in-thread write for tests that must go through the worker: called, it fails the test. */
const notHere = (): Promise<DeviceMove[]> => {
  throw new Error('written on the main thread, not by the worker');
};

/** A started writer: every batch goes to the worker. */
async function startedWriter(connection: SqlConnection) {
  const writer = connection.checkInWriter;
  assert.ok(writer);
  await writer.start();
  assert.equal(writer.offloaded, true);
  return writer;
}

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
    await startedWriter(connection);
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
    const writer = await startedWriter(connection);
    await writer.writeCheckIns(batchOf(checkIn(0)), notHere);
    const handedOver = [1, 2, 3].map((n) =>
      writer.writeCheckIns(batchOf(...Array.from({ length: 200 }, (_, i) => checkIn(n * 1000 + i))), notHere),
    );
    await connection.close();
    assert.equal((await Promise.all(handedOver)).flat().length, 600, 'each new device moved onto 1.0.0');
    assert.deepEqual(onDisk(file, 'select count(*) as n from devices'), [{ n: 601 }]);
    await assert.rejects(writer.writeCheckIns(batchOf(checkIn(9)), notHere), /closed/);
  });

  it('writes here until a batch is slow, then hands batches to the worker once it is up, never waiting for it', async () => {
    const { connection, file } = await fileDatabase();
    const writer = connection.checkInWriter;
    assert.ok(writer);
    const here = createSqlDeviceRepository(connection.db, connection.dialect);
    let writtenHere = 0;
    const writeHere = async (batch: CheckInBatch, delayMs = 0) => {
      writtenHere++;
      await new Promise((r) => setTimeout(r, delayMs));
      return here.writeCheckIns(batch);
    };
    // A fast batch: written on this thread, and no worker is started for it.
    await writer.writeCheckIns(batchOf(checkIn(0)), (b) => writeHere(b));
    assert.equal(writtenHere, 1);
    assert.equal(writer.offloaded, false);
    // A batch that takes longer than 20 ms starts the worker; batches written while it boots are not held back.
    await writer.writeCheckIns(batchOf(checkIn(1)), (b) => writeHere(b, 40));
    const booting = writer.start();
    await writer.writeCheckIns(batchOf(checkIn(2)), (b) => writeHere(b));
    assert.deepEqual(onDisk(file, 'select id from devices order by id'), [
      { id: 'dev-0' },
      { id: 'dev-1' },
      { id: 'dev-2' },
    ]);
    assert.equal(writtenHere, 3);
    // Once up, the worker writes everything (start() above joined the boot the slow batch began).
    await booting;
    assert.equal(writer.offloaded, true);
    await writer.writeCheckIns(batchOf(checkIn(3)), notHere);
    assert.deepEqual(onDisk(file, "select id from devices where id = 'dev-3'"), [{ id: 'dev-3' }]);
    await connection.close();
  });

  it('start() boots one worker however often it is called, and rejects when the worker cannot open the file', async () => {
    const { connection, file } = await fileDatabase();
    const writer = connection.checkInWriter;
    assert.ok(writer);
    const starting = writer.start();
    assert.equal(writer.start(), starting, 'a second start() waits for the same worker');
    await starting;
    await writer.writeCheckIns(batchOf(checkIn(0)), notHere);
    assert.deepEqual(onDisk(file, 'select id from devices'), [{ id: 'dev-0' }]);
    await connection.close();

    // The file is replaced by a folder before the worker starts: the boot fails, and batches stay on this
    // thread, written, rather than failing.
    const gone = await fileDatabase();
    await rm(join(gone.file, '..'), { recursive: true, force: true });
    await mkdir(gone.file, { recursive: true });
    const goneWriter = gone.connection.checkInWriter;
    assert.ok(goneWriter);
    await assert.rejects(goneWriter.start(), /unable to open|exit code|SQLITE_CANTOPEN/);
    assert.equal(goneWriter.offloaded, false);
    let writtenHere = 0;
    await goneWriter.writeCheckIns(batchOf(checkIn(1)), () => {
      writtenHere++;
      return Promise.resolve([]);
    });
    assert.equal(writtenHere, 1);
    await gone.connection.close();
  });

  it('a failed batch fails its caller and the worker goes on with the next one', async () => {
    const { connection, file } = await fileDatabase();
    const writer = await startedWriter(connection);
    const broken = new Database(file);
    broken.exec(
      "create trigger no_bad before insert on devices when new.id = 'bad' begin select raise(abort, 'bad device'); end",
    );
    broken.close();
    await assert.rejects(
      writer.writeCheckIns(batchOf({ ...checkIn(0), deviceId: 'bad' }), notHere),
      /bad device/,
    );
    await writer.writeCheckIns(batchOf(checkIn(1)), notHere);
    assert.deepEqual(onDisk(file, 'select id from devices'), [{ id: 'dev-1' }]);
    await connection.close();
  });
});
