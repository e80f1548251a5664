import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { migrate, openDatabase, type SqlConnection } from '../../src/storage/sql/connection.js';
import { createSqlSettingsRepository } from '../../src/storage/sql/settings-repository.js';
import { createSqlTokenRepository } from '../../src/storage/sql/token-repository.js';
import { createSqlDeviceRepository } from '../../src/storage/sql/device-repository.js';
import { createTokenService } from '../../src/core/tokens/token-service.js';
import { createPgEventBus } from '../../src/storage/sql/pg-event-bus.js';
import { createPgLockProvider } from '../../src/storage/sql/pg-advisory-lock.js';
import { createLeadership } from '../../src/app/leader.js';
import { createLogger } from '../../src/app/logger.js';
import type { BusMessage } from '../../src/core/events/event-bus.js';
import type { Device } from '../../src/core/devices/types.js';
import { pgSchema, terminateBackends } from '../support/pg-schema.js';
import { tempDir } from '../support/server.js';
import { SYSTEM } from '../../src/core/audit/context.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function open(url: string): Promise<SqlConnection> {
  const c = await openDatabase(url);
  cleanups.push(() => c.close());
  return c;
}

/** Two connections (two replicas) on one database: a fresh PostgreSQL schema, or one SQLite file. */
async function twoReplicas(dialect: 'postgres' | 'sqlite'): Promise<[SqlConnection, SqlConnection]> {
  let url: string;
  if (dialect === 'postgres') {
    const s = await pgSchema();
    cleanups.push(s.drop);
    url = s.url;
  } else {
    url = `sqlite:${await tempDir('updraft-coord-')}/updraft.db`;
  }
  const a = await open(url);
  await migrate(a);
  return [a, await open(url)];
}

const until = async (what: string, check: () => boolean, ms = 5000): Promise<number> => {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - start;
};

const device = (id: string, version: string, lastSeen: string, address: string): Device => ({
  id,
  product: 'p',
  version,
  firstSeen: lastSeen,
  lastSeen,
  lastUpdate: null,
  address,
  protocol: 'esp-httpupdate',
  userAgent: null,
  lastOffered: null,
  lastOutcome: null,
  pinnedVersion: null,
  attributes: {},
});

for (const dialect of ['postgres', 'sqlite'] as const) {
  describe(`replicas on one ${dialect} database`, () => {
    it('settings.increment hands out unique numbers under concurrent increments from two connections', async () => {
      const [a, b] = await twoReplicas(dialect);
      const sa = createSqlSettingsRepository(a.db);
      const sb = createSqlSettingsRepository(b.db);
      const runs = Array.from({ length: 60 }, (_, i) => (i % 2 ? sa : sb).increment('suit-seq:p', 1));
      const got = await Promise.all(runs);
      assert.equal(new Set(got).size, got.length, `duplicates in ${got.join(',')}`);
      assert.deepEqual(
        [...got].sort((x, y) => x - y),
        Array.from({ length: 60 }, (_, i) => i + 1),
      );
      assert.equal(await sa.increment('suit-seq:p', 1000), 1000, 'atLeast still wins when larger');
      assert.equal(await sb.increment('suit-seq:p', 5), 1001);
    });

    it('admin-token bootstrap: two replicas starting together on an empty database make one token', async () => {
      const [a, b] = await twoReplicas(dialect);
      const services = [a, b].map((c) => createTokenService({ tokens: createSqlTokenRepository(c.db) }));
      const printed = (await Promise.all(services.map((s) => s.bootstrapAdmin(SYSTEM)))).filter(Boolean);
      assert.equal(printed.length, 1, 'exactly one replica prints a token');
      assert.equal((await services[0]!.list('admin')).length, 1);
      assert.equal(await services[1]!.verifyAdmin(printed[0]), true, 'the printed token works on the other');
      assert.equal(await services[0]!.bootstrapAdmin(SYSTEM), undefined, 'a restart prints nothing');
    });

    it('a token created through one replica is accepted by another at once, before any bus message', async () => {
      const [a, b] = await twoReplicas(dialect);
      const repoB = createSqlTokenRepository(b.db);
      let lists = 0;
      const counting = { ...repoB, list: (kind?: 'admin' | 'device') => (lists++, repoB.list(kind)) };
      const here = createTokenService({ tokens: createSqlTokenRepository(a.db) });
      const there = createTokenService({ tokens: counting, cacheTtlMs: 60_000 });
      assert.equal(await there.verifyAdmin('not-a-token'), false, 'warm, and the first miss reloads once');
      const { token } = await here.create(SYSTEM, { kind: 'admin', name: 'ci' });
      await new Promise((r) => setTimeout(r, 120));
      assert.equal(await there.verifyAdmin(token), true, 'a miss reloads the list');
      const before = lists;
      await Promise.all(Array.from({ length: 20 }, () => there.verifyAdmin('wrong')));
      assert.ok(
        lists - before <= 1,
        `a flood of wrong tokens reloads at most once per 100 ms (${lists - before})`,
      );
    });

    it('write-behind batches merge: an older batch arriving late never moves last_seen or version back', async () => {
      const [a, b] = await twoReplicas(dialect);
      const ra = createSqlDeviceRepository(a.db, a.dialect);
      const rb = createSqlDeviceRepository(b.db, b.dialect);
      const none = new Map<string, number>();
      await ra.saveBatch({
        devices: [device('d1', '1.0.0', '2026-01-01T00:00:00.000Z', '10.0.0.1')],
        events: [],
        checkInsByHour: none,
      });
      // Replica B saw the newer check-in (after the update) and flushed first…
      await rb.saveBatch({
        devices: [device('d1', '2.0.0', '2026-01-01T00:00:05.000Z', '10.0.0.2')],
        events: [],
        checkInsByHour: none,
      });
      // …then replica A flushes the older one it buffered.
      const older = device('d1', '1.0.0', '2026-01-01T00:00:03.000Z', '10.0.0.1');
      older.firstSeen = '2025-12-31T23:59:00.000Z';
      await ra.saveBatch({ devices: [older], events: [], checkInsByHour: none });
      const stored = await ra.get('d1');
      assert.equal(stored?.lastSeen, '2026-01-01T00:00:05.000Z', 'last_seen never goes backwards');
      assert.equal(stored?.version, '2.0.0', 'the newest check-in’s version wins');
      assert.equal(stored?.address, '10.0.0.2');
      assert.equal(stored?.firstSeen, '2025-12-31T23:59:00.000Z', 'first_seen keeps the earliest');
      // A newer one from A wins again.
      await ra.saveBatch({
        devices: [device('d1', '2.0.1', '2026-01-01T00:00:09.000Z', '10.0.0.1')],
        events: [],
        checkInsByHour: none,
      });
      assert.equal((await rb.get('d1'))?.version, '2.0.1');
    });
  });
}

describe('PostgreSQL events bus (LISTEN/NOTIFY)', () => {
  it('delivers between replicas within a second, in order, never echoes, and recovers from a cut connection', async () => {
    const s = await pgSchema();
    cleanups.push(s.drop);
    const [a, b] = [await open(s.url), await open(s.url)];
    const name = `updraft-test-bus-${randomBytes(4).toString('hex')}`;
    const busA = await createPgEventBus({ url: s.url, db: a.db, applicationName: `${name}-a` });
    const busB = await createPgEventBus({
      url: s.url,
      db: b.db,
      applicationName: `${name}-b`,
      reconnectMs: 50,
    });
    cleanups.push(
      () => busA.close(),
      () => busB.close(),
    );
    const atA: BusMessage[] = [];
    const atB: BusMessage[] = [];
    busA.subscribe((m) => atA.push(m));
    busB.subscribe((m) => atB.push(m));

    busA.publish({ kind: 'invalidate', cache: 'tokens' });
    busA.publish({ kind: 'invalidate', cache: 'published', key: 'p' });
    assert.equal(atA.length, 2, 'delivered here at once');
    const took = await until('B to hear A', () => atB.length >= 2, 1000);
    assert.ok(took < 1000);
    assert.deepEqual(atB, [
      { kind: 'invalidate', cache: 'tokens' },
      { kind: 'invalidate', cache: 'published', key: 'p' },
    ]);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(atA.length, 2, 'A does not hear its own messages twice');

    assert.ok((await terminateBackends(`${name}-b`)) >= 1);
    await until('B to reconnect and drop everything', () =>
      atB.some((m) => m.kind === 'invalidate' && m.cache === '*'),
    );
    atB.length = 0;
    busA.publish({ kind: 'invalidate', cache: 'pins' });
    await until('B to hear A after the reconnect', () => atB.length === 1, 2000);

    // A release event with notes beyond NOTIFY's 8000-byte limit still arrives, without the notes.
    const release = {
      id: 'r1',
      product: 'p',
      version: '1.0.0',
      label: null,
      notes: 'n'.repeat(9000),
      state: 'published' as const,
      createdAt: '2026-01-01T00:00:00.000Z',
      publishedAt: '2026-01-01T00:00:00.000Z',
      revokedAt: null,
      artifacts: [
        {
          name: 'firmware.bin',
          size: 3,
          sha256: 'a'.repeat(64),
          md5: 'b'.repeat(32),
          contentType: 'application/octet-stream',
        },
      ],
    };
    busA.publish({ kind: 'release', event: { type: 'published', release } });
    const got = await until('B to hear the release', () => atB.length === 2, 2000).then(() => atB[1]);
    assert.equal(got?.kind, 'release');
    if (got?.kind === 'release') {
      assert.equal(got.event.release.notes, '');
      assert.deepEqual(got.event.release.artifacts, release.artifacts);
    }
  });
});

describe('leader election (pg_advisory_lock)', () => {
  it('runs singleton work on exactly one replica and hands it over when the leader goes', async () => {
    const s = await pgSchema();
    cleanups.push(s.drop);
    const logger = createLogger('silent');
    const name = `updraft-test-leader-${randomBytes(4).toString('hex')}`;
    const running = new Set<string>();
    const stopped: string[] = [];
    const replicas = ['a', 'b', 'c'].map((id) => {
      const leadership = createLeadership(createPgLockProvider(s.url, `${name}-${id}`), logger, {
        pollMs: 100,
      });
      cleanups.push(() => leadership.close());
      return { id, leadership };
    });
    for (const r of replicas) {
      await r.leadership.whileLeader(
        'drop-folder',
        () => void running.add(r.id),
        () => {
          running.delete(r.id);
          stopped.push(r.id);
        },
      );
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(running.size, 1, 'exactly one runs it');
    const first = [...running][0]!;
    // The leader's database connection is cut: its lock is gone, so it stops at once, and one replica (maybe
    // the same one, reconnected) holds it again. (A process that dies is the e2e test's kill -9.)
    await terminateBackends(`${name}-${first}`);
    await until('the old leader to stop', () => stopped.includes(first), 3000);
    await until('one replica to lead again', () => running.size === 1, 3000);
    const second = [...running][0]!;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(running.size, 1, 'still exactly one after the takeover');
    // A graceful stop hands it on too.
    await replicas.find((r) => r.id === second)!.leadership.close();
    await until('the third to take over', () => running.size === 1 && !running.has(second), 3000);
  });
});
