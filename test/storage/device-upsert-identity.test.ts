import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { migrate, openDatabase, type SqlConnection } from '../../src/storage/sql/connection.js';
import { createSqlDeviceRepository } from '../../src/storage/sql/device-repository.js';
import type { Device } from '../../src/core/devices/types.js';
import { postgresSchemas } from '../support/pg-schema.js';

// The flush tells saveBatch which rows' product and version it read as the stored ones, so the upsert can leave
// those columns (and SQLite's (product, version) index) alone. A belief that is wrong, because another writer
// moved the device in between, must still end with the newest check-in's record.

const device = (id: string, lastSeen: string, version: string, address = '10.0.0.1'): Device => ({
  id,
  product: 'p',
  version,
  firstSeen: '2026-03-01T00:00:00.000Z',
  lastSeen,
  lastUpdate: null,
  address,
  protocol: 'esp8266-httpupdate',
  userAgent: 'ESP8266-http-Update',
  lastOffered: null,
  lastOutcome: null,
  pinnedVersion: null,
  attributes: { mode: 'sketch' },
});
const noCounts = new Map<string, number>();

function suite(url: () => Promise<string>) {
  const connections: SqlConnection[] = [];
  after(async () => {
    for (const c of connections) await c.close();
  });
  async function repository() {
    const connection = await openDatabase(await url());
    connections.push(connection);
    await migrate(connection);
    const repo = createSqlDeviceRepository(connection.db, connection.dialect);
    /** saveBatch of these devices alone, believing the stored identity of `believed`. */
    const save = (devices: Device[], believed?: string[]) =>
      repo.saveBatch({ devices, events: [], checkInsByHour: noCounts }, believed && new Set(believed));
    return { repo, save };
  }

  it('writes everything but product and version when the belief holds', async () => {
    const { repo, save } = await repository();
    await save([device('a', '2026-03-01T01:00:00.000Z', '1.0.0')]);
    await save([device('a', '2026-03-01T02:00:00.000Z', '1.0.0', '10.0.0.9')], ['a']);
    const stored = await repo.get('a');
    assert.equal(stored?.lastSeen, '2026-03-01T02:00:00.000Z');
    assert.equal(stored?.address, '10.0.0.9');
    assert.equal(stored?.version, '1.0.0');
  });

  it('falls back to the full merge for the rows whose stored identity moved, in a mixed chunk', async () => {
    const { repo, save } = await repository();
    await save([
      device('a', '2026-03-01T01:00:00.000Z', '1.0.0'),
      device('b', '2026-03-01T01:00:00.000Z', '1.0.0'),
    ]);
    // b is believed unchanged but now reports 2.0.0 (as if another writer had stored 1.0.0 after the read), and
    // c is believed stored but is new: both must come out as the newest check-in says.
    await save(
      [
        device('a', '2026-03-01T02:00:00.000Z', '1.0.0', '10.0.0.2'),
        device('b', '2026-03-01T02:00:00.000Z', '2.0.0', '10.0.0.3'),
        device('c', '2026-03-01T02:00:00.000Z', '3.0.0'),
      ],
      ['a', 'b', 'c'],
    );
    const stored = await repo.getMany(['a', 'b', 'c']);
    assert.deepEqual(
      ['a', 'b', 'c'].map((id) => [
        stored.get(id)?.version,
        stored.get(id)?.address,
        stored.get(id)?.lastSeen,
      ]),
      [
        ['1.0.0', '10.0.0.2', '2026-03-01T02:00:00.000Z'],
        ['2.0.0', '10.0.0.3', '2026-03-01T02:00:00.000Z'],
        ['3.0.0', '10.0.0.1', '2026-03-01T02:00:00.000Z'],
      ],
    );
  });

  it('keeps the newer stored record when an older check-in arrives with a wrong belief', async () => {
    const { repo, save } = await repository();
    await save([device('a', '2026-03-01T05:00:00.000Z', '2.0.0', '10.0.0.5')]);
    await save([device('a', '2026-03-01T04:00:00.000Z', '1.0.0', '10.0.0.4')], ['a']);
    const stored = await repo.get('a');
    assert.deepEqual(
      [stored?.version, stored?.address, stored?.lastSeen],
      ['2.0.0', '10.0.0.5', '2026-03-01T05:00:00.000Z'],
    );
  });

  it('reports a version move through the flush, which reads the stored identity itself', async () => {
    const { repo } = await repository();
    const checkIn = (at: string, version: string) => ({
      deviceId: 'a',
      product: 'p',
      version,
      address: '10.0.0.1',
      protocol: 'esp8266-httpupdate',
      userAgent: 'ESP8266-http-Update',
      attributes: {},
      at,
    });
    const batch = (at: string, version: string) => ({
      checkIns: [checkIn(at, version)],
      events: [],
      historyLimit: 100,
      trimAbove: 125,
    });
    await repo.writeCheckIns(batch('2026-03-01T01:00:00.000Z', '1.0.0'));
    await repo.writeCheckIns(batch('2026-03-01T01:00:01.000Z', '1.0.0'));
    const moves = await repo.writeCheckIns(batch('2026-03-01T01:00:02.000Z', '1.1.0'));
    assert.equal(moves.length, 1);
    assert.equal((await repo.get('a'))?.version, '1.1.0');
    assert.equal((await repo.get('a'))?.lastSeen, '2026-03-01T01:00:02.000Z');
  });
}

describe('device upsert that keeps the stored identity: SQLite', () => {
  suite(async () => 'sqlite::memory:');
});

describe('device upsert that keeps the stored identity: PostgreSQL', () => {
  suite(postgresSchemas());
});
