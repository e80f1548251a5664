import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDeviceRegistry } from '../../src/core/devices/device-registry.js';
import { normalizeMac } from '../../src/core/devices/mac.js';
import { applyCheckIn } from '../../src/core/devices/apply-check-in.js';
import { migrate, openDatabase, type SqlConnection } from '../../src/storage/sql/connection.js';
import { createSqlDeviceRepository } from '../../src/storage/sql/device-repository.js';
import type { DeviceRepository } from '../../src/core/devices/ports.js';
import { noMetrics } from '../../src/core/metrics/metrics.js';

describe('MAC normalisation', () => {
  it('accepts common spellings and rejects the rest', () => {
    for (const mac of ['AA:BB:CC:DD:EE:FF', 'aa-bb-cc-dd-ee-ff', 'aabbccddeeff', 'aA:bB-cC:dD-eE:fF']) {
      assert.equal(normalizeMac(mac), 'aa:bb:cc:dd:ee:ff', mac);
    }
    for (const bad of [
      '',
      'aa:bb:cc:dd:ee',
      'aa:bb:cc:dd:ee:ff:00',
      'gg:bb:cc:dd:ee:ff',
      'aa:bb:cc:dd:ee:ffx',
      '../x',
    ]) {
      assert.equal(normalizeMac(bad), undefined, bad);
    }
  });
});

describe('applyCheckIn', () => {
  it('records an update to the offered version as a success, with its time', () => {
    const first = applyCheckIn(
      undefined,
      { deviceId: 'd', version: '1.0.0', protocol: 'test', offered: '1.1.0' },
      't1',
    );
    assert.equal(first.device.firstSeen, 't1');
    assert.equal(first.device.lastUpdate, null);
    assert.equal(first.device.lastOffered, '1.1.0');
    const second = applyCheckIn(first.device, { deviceId: 'd', version: '1.1.0', protocol: 'test' }, 't2');
    assert.equal(second.device.lastUpdate, 't2');
    assert.equal(second.device.lastOutcome, 'ok');
    assert.ok(second.events.some((e) => e.kind === 'updated' && e.version === '1.1.0'));
  });
});

it('keeps a check-in in the history when it is the first of its hour or reports something new, not every poll', () => {
  const checkIn = { deviceId: 'd', version: '1.0.0', protocol: 'esp8266' };
  const kindsOf = (r: ReturnType<typeof applyCheckIn>) => r.events.map((e) => e.kind);
  const first = applyCheckIn(undefined, checkIn, '2026-12-02T10:00:00.000Z');
  assert.deepEqual(kindsOf(first), ['check-in'], "a device's first check-in");
  const poll = applyCheckIn(first.device, checkIn, '2026-12-02T10:05:00.000Z');
  assert.deepEqual(kindsOf(poll), [], 'the same report 5 minutes later only moves lastSeen');
  assert.equal(poll.device.lastSeen, '2026-12-02T10:05:00.000Z');
  const nextHour = applyCheckIn(poll.device, checkIn, '2026-12-02T11:00:01.000Z');
  assert.deepEqual(kindsOf(nextHour), ['check-in'], 'the first of the next hour');
  const otherProtocol = applyCheckIn(
    nextHour.device,
    { ...checkIn, protocol: 'coap' },
    '2026-12-02T11:01:00.000Z',
  );
  assert.deepEqual(kindsOf(otherProtocol), ['check-in'], 'a check-in over another protocol');
  const newVersion = applyCheckIn(
    otherProtocol.device,
    { ...checkIn, protocol: 'coap', version: '1.1.0' },
    '2026-12-02T11:02:00.000Z',
  );
  assert.deepEqual(kindsOf(newVersion), ['check-in', 'updated'], 'a new version');
});

describe('addresses', () => {
  it('shows IPv4-mapped IPv6 peers as plain IPv4 and keeps real IPv6', () => {
    const v4 = applyCheckIn(undefined, { deviceId: 'a', protocol: 't', address: '::ffff:10.1.2.3' }, 't');
    assert.equal(v4.device.address, '10.1.2.3');
    const v6 = applyCheckIn(undefined, { deviceId: 'b', protocol: 't', address: '::ffff:abcd' }, 't');
    assert.equal(v6.device.address, '::ffff:abcd');
  });
});

describe('device registry write-behind', () => {
  let connection: SqlConnection;
  let repo: DeviceRepository;
  let writes = 0;

  before(async () => {
    connection = await openDatabase('sqlite::memory:');
    await migrate(connection);
    const real = createSqlDeviceRepository(connection.db, connection.dialect);
    repo = {
      ...real,
      writeCheckIns: async (b) => {
        writes++;
        return real.writeCheckIns(b);
      },
    };
  });
  after(() => connection.close());

  it('batches many check-ins into a few chunked writes per flush and keeps history bounded', async () => {
    const registry = createDeviceRegistry({ devices: repo, historyLimit: 5, flushIntervalMs: 10_000 });
    for (let i = 0; i < 1000; i++) {
      registry.checkIn({
        deviceId: `dev-${i % 100}`,
        product: 'p',
        version: `1.0.${i % 3}`,
        protocol: 'test',
      });
    }
    assert.equal(writes, 0, 'nothing written before the flush');
    await registry.flush();
    assert.equal(writes, 4, '1000 check-ins: four transactions of 250, not a write each');
    const page = await registry.list({ limit: 1000, offset: 0 });
    assert.equal(page.total, 100);
    const history = await registry.history('dev-1', 100);
    assert.ok(history.length >= 5 && history.length < 5 + 2, `history of ${history.length} events`);
    const stats = await registry.stats(24);
    assert.equal(
      stats.checkInsPerHour.reduce((n, h) => n + h.count, 0),
      1000,
    );
  });

  it("bounds a device's history from what is stored, across restarts and however slowly it grows", async () => {
    // One history row an hour (the first check-in of each hour), with the registry restarted every hour: a
    // count kept in memory starts again at each start, and trimmed nothing here before the count moved to storage.
    for (let hour = 0; hour < 14; hour++) {
      const at = new Date(Date.UTC(2026, 2, 1, hour, 30));
      const registry = createDeviceRegistry({ devices: repo, historyLimit: 8, clock: () => at });
      registry.checkIn({ deviceId: 'slow-1', product: 'p', protocol: 'test' });
      await registry.flush();
    }
    const history = await repo.history('slow-1', 100);
    // 14 hourly rows, trimmed to 8 whenever there are more than 10 (the limit and a quarter): at the 11th and
    // the 14th.
    assert.equal(history.length, 8);
    assert.equal(history[0]?.at, '2026-03-01T13:30:00.000Z', 'newest first');
  });

  it('flushes on stop', async () => {
    const registry = createDeviceRegistry({ devices: repo, flushIntervalMs: 60_000 });
    registry.start();
    registry.checkIn({ deviceId: 'late', protocol: 'test' });
    await registry.stop();
    assert.ok(await repo.get('late'));
  });

  it('keeps pending records when a write fails, and writes them on the next flush', async () => {
    let fail = true;
    const flaky: DeviceRepository = {
      ...repo,
      writeCheckIns: async (b) => {
        if (fail) throw new Error('db down');
        return repo.writeCheckIns(b);
      },
    };
    const registry = createDeviceRegistry({ devices: flaky });
    registry.checkIn({ deviceId: 'kept', protocol: 'test', version: '2.0.0' });
    await assert.rejects(registry.flush(), /db down/);
    fail = false;
    await registry.flush();
    assert.equal((await repo.get('kept'))?.version, '2.0.0');
  });

  it('while the database is away, keeps the newest records up to its bound and counts what it drops', async () => {
    let fail = true;
    let duringWrite = () => {};
    const away: DeviceRepository = {
      ...repo,
      writeCheckIns: async (b) => {
        if (!fail) return repo.writeCheckIns(b);
        duringWrite();
        throw new Error('db down');
      },
    };
    let dropped = 0;
    const registry = createDeviceRegistry({
      devices: away,
      maxPending: 1000,
      metrics: { ...noMetrics, writeBehindDropped: (count) => (dropped += count) },
    });
    const checkIns = (from: number, to: number) => {
      for (let i = from; i < to; i++)
        registry.checkIn({ deviceId: `away-${i}`, protocol: 'test', version: '1.0.0' });
    };
    checkIns(0, 1200);
    assert.equal(dropped, 200, 'the 200 oldest went as the queue reached its bound');
    // 50 check-ins arrive while the first chunk (250) is being written: when it fails and goes back in front of
    // them, the queue holds 50 more than its bound, and the oldest 50 go.
    duringWrite = () => {
      duringWrite = () => {};
      checkIns(1200, 1250);
    };
    await assert.rejects(registry.flush(), /db down/);
    assert.equal(dropped, 250);
    assert.equal(registry.pendingCount(), 1000);
    fail = false;
    await registry.flush();
    assert.equal(await repo.get('away-249'), undefined, 'the oldest were dropped');
    assert.ok(await repo.get('away-250'));
    assert.ok(await repo.get('away-1249'));
    assert.equal(registry.pendingCount(), 0);
  });

  it('reports a device from pending check-ins and the database without flushing (device hot path)', async () => {
    const registry = createDeviceRegistry({ devices: repo, flushIntervalMs: 60_000 });
    registry.checkIn({ deviceId: 'peek-stored', protocol: 'test', version: '1.0.0' });
    await registry.flush();
    const before = writes;
    registry.checkIn({ deviceId: 'peek-pending', protocol: 'test', version: '2.0.0' });
    registry.checkIn({ deviceId: 'peek-pending', protocol: 'test' });
    registry.checkIn({ deviceId: 'peek-stored', protocol: 'test', version: '1.1.0' });
    assert.deepEqual(await registry.reported('peek-pending'), { version: '2.0.0' });
    assert.deepEqual(await registry.reported('peek-stored'), { version: '1.1.0' });
    registry.checkIn({ deviceId: 'peek-none', protocol: 'test' });
    assert.deepEqual(await registry.reported('peek-none'), { version: null });
    assert.equal(await registry.reported('peek-unknown'), undefined);
    assert.equal(writes, before, 'no write was forced');
    assert.equal(registry.pendingCount(), 4);
    await registry.stop();
  });
});
