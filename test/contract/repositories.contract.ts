import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { ProductRepository, ReleaseRepository } from '../../src/core/catalog/ports.js';
import type { DeviceRepository } from '../../src/core/devices/ports.js';
import type { TokenRepository } from '../../src/core/tokens/types.js';
import type { SettingsRepository } from '../../src/core/settings.js';
import type { Release } from '../../src/core/catalog/types.js';
import type { Device } from '../../src/core/devices/types.js';
import { isDomainError } from '../../src/core/errors.js';
import type { AuditRepository, UnitOfWork } from '../../src/core/audit/types.js';
import { createAuditLog } from '../../src/core/audit/audit-log.js';
import { SYSTEM } from '../../src/core/audit/context.js';

export interface Repositories {
  products: ProductRepository;
  releases: ReleaseRepository;
  devices: DeviceRepository;
  tokens: TokenRepository;
  settings: SettingsRepository;
  audit: AuditRepository;
  unitOfWork: UnitOfWork;
  /** Makes every later audit insert fail (a trigger), as a full disk or a lost connection would. */
  breakAuditLog(): Promise<void>;
}

const product = (name: string) => ({
  name,
  description: 'd',
  deviceFamily: 'esp8266',
  hardwareClass: null,
  settings: { a: 1 },
  createdAt: '2026-01-01T00:00:00.000Z',
});
const release = (id: string, version: string, sha = 'a'.repeat(64)): Release => ({
  id,
  product: 'p1',
  version,
  label: null,
  notes: 'n',
  state: 'draft',
  createdAt: `2026-01-0${id.length}T00:00:00.000Z`,
  publishedAt: null,
  revokedAt: null,
  artifacts: [
    {
      name: 'firmware.bin',
      size: 5_000_000_000,
      sha256: sha,
      md5: 'b'.repeat(32),
      contentType: 'application/octet-stream',
    },
    {
      name: 'spiffs',
      size: 1,
      sha256: 'c'.repeat(64),
      md5: 'd'.repeat(32),
      contentType: 'application/octet-stream',
    },
  ],
});
const device = (id: string, lastSeen: string, version = '1.0.0'): Device => ({
  id,
  product: 'p1',
  version,
  firstSeen: lastSeen,
  lastSeen,
  lastUpdate: null,
  address: '10.0.0.1',
  protocol: 'test',
  userAgent: null,
  lastOffered: null,
  lastOutcome: null,
  pinnedVersion: null,
  attributes: { chip: 'x' },
});

/** The behaviour every metadata implementation must have; SQLite and PostgreSQL both run it. */
export function repositoriesContract(make: () => Promise<Repositories>): void {
  it('products: create, get, list, update, delete; a duplicate is PRODUCT_EXISTS', async () => {
    const r = await make();
    await r.products.create(product('p1'));
    await r.products.create(product('p0'));
    await assert.rejects(r.products.create(product('p1')), (e) => isDomainError(e, 'PRODUCT_EXISTS'));
    assert.deepEqual(await r.products.get('p1'), product('p1'));
    assert.deepEqual(
      (await r.products.list()).map((p) => p.name),
      ['p0', 'p1'],
    );
    assert.equal(
      (await r.products.update('p1', { description: 'new', settings: { b: 2 } }))?.description,
      'new',
    );
    assert.deepEqual((await r.products.get('p1'))?.settings, { b: 2 });
    assert.equal(await r.products.delete('p0'), true);
    assert.equal(await r.products.delete('p0'), false);
    assert.equal(await r.products.get('nope'), undefined);
  });

  it('releases: artifacts kept in order with sizes beyond 32 bits; VERSION_EXISTS; states; blob references', async () => {
    const r = await make();
    await r.products.create(product('p1'));
    await r.releases.create(release('r1', '1.0.0'));
    await r.releases.create(release('r22', '1.1.0', 'e'.repeat(64)));
    await assert.rejects(r.releases.create(release('r333', '1.0.0')), (e) =>
      isDomainError(e, 'VERSION_EXISTS'),
    );
    const got = await r.releases.get('p1', '1.0.0');
    assert.deepEqual(got, release('r1', '1.0.0'));
    assert.deepEqual(await r.releases.getById('r1'), got);
    assert.deepEqual(
      (await r.releases.list('p1')).map((x) => x.version),
      ['1.1.0', '1.0.0'],
    );
    await r.releases.setState('r1', 'published', '2026-02-01T00:00:00.000Z');
    assert.deepEqual(
      (await r.releases.list('p1', { states: ['published'] })).map((x) => x.id),
      ['r1'],
    );
    assert.equal((await r.releases.getById('r1'))?.publishedAt, '2026-02-01T00:00:00.000Z');
    await r.releases.setState('r1', 'revoked', '2026-02-02T00:00:00.000Z');
    assert.equal((await r.releases.getById('r1'))?.state, 'revoked');
    assert.equal((await r.releases.listAll({ limit: 1 })).length, 1);
    assert.equal(await r.releases.isBlobReferenced('c'.repeat(64)), true);
    assert.equal(await r.releases.delete('r1'), true);
    assert.equal(await r.releases.isBlobReferenced('a'.repeat(64)), false);
    assert.equal(await r.releases.isBlobReferenced('c'.repeat(64)), true);
    assert.equal(await r.releases.get('p1', '1.0.0'), undefined);
  });

  it('devices: batch upsert, paging, filters, search, sort, history, stats, pins', async () => {
    const r = await make();
    const devices = Array.from({ length: 250 }, (_, i) =>
      device(
        `dev-${String(i).padStart(3, '0')}`,
        `2026-03-01T${String(i % 24).padStart(2, '0')}:00:00.000Z`,
        i % 2 ? '1.0.0' : '2.0.0',
      ),
    );
    const events = devices.map((d) => ({
      deviceId: d.id,
      at: d.lastSeen,
      kind: 'check-in' as const,
      version: d.version,
      detail: null,
    }));
    await r.devices.saveBatch({ devices, events, checkInsByHour: new Map([['2026-03-01T00', 250]]) });
    await r.devices.saveBatch({
      devices: [{ ...device('dev-000', '2026-03-02T00:00:00.000Z', '3.0.0') }],
      events: [],
      checkInsByHour: new Map([['2026-03-01T00', 5]]),
    });
    assert.equal((await r.devices.get('dev-000'))?.version, '3.0.0');
    assert.deepEqual((await r.devices.get('dev-000'))?.attributes, { chip: 'x' });
    assert.equal((await r.devices.getMany(['dev-001', 'dev-002', 'nope'])).size, 2);
    const page = await r.devices.list({ limit: 10, offset: 20, sort: 'id', order: 'asc' });
    assert.equal(page.total, 250);
    assert.deepEqual(page.items.map((d) => d.id).slice(0, 2), ['dev-020', 'dev-021']);
    assert.equal((await r.devices.list({ limit: 500, offset: 0, version: '1.0.0' })).total, 125);
    assert.equal((await r.devices.list({ limit: 500, offset: 0, search: 'dev-24' })).total, 10);
    assert.equal((await r.devices.list({ limit: 500, offset: 0, search: '%' })).total, 0);
    assert.equal(
      (await r.devices.list({ limit: 1, offset: 0 })).items[0]?.id,
      'dev-000',
      'default: last seen, newest first',
    );
    assert.equal(
      (await r.devices.list({ limit: 500, offset: 0, seenAfter: '2026-03-01T23:00:00.000Z' })).total,
      11,
    );
    const stats = await r.devices.stats('2026-03-01T00:00:00.000Z');
    assert.equal(stats.total, 250);
    assert.deepEqual(stats.checkInsPerHour, [{ hour: '2026-03-01T00', count: 255 }]);
    assert.equal(
      stats.byProductVersion.reduce((n, g) => n + g.count, 0),
      250,
    );
    const counts = (await r.devices.versionCounts()).sort((a, b) =>
      String(a.version).localeCompare(String(b.version)),
    );
    assert.deepEqual(counts, [
      { product: 'p1', version: '1.0.0', count: 125 },
      { product: 'p1', version: '2.0.0', count: 124 },
      { product: 'p1', version: '3.0.0', count: 1 },
    ]);
    await r.devices.saveBatch({
      devices: [],
      events: Array.from({ length: 30 }, (_, i) => ({
        deviceId: 'dev-001',
        at: `t${i}`,
        kind: 'check-in' as const,
        version: null,
        detail: null,
      })),
      checkInsByHour: new Map(),
    });
    await r.devices.saveBatch({
      devices: [],
      events: ['u0', 'u1', 'u2'].map((at) => ({
        deviceId: 'dev-002',
        at,
        kind: 'check-in' as const,
        version: null,
        detail: null,
      })),
      checkInsByHour: new Map(),
    });
    await r.devices.pruneHistory(['dev-001', 'dev-002'], 10);
    const history = await r.devices.history('dev-001', 100);
    assert.equal(history.length, 10);
    assert.equal(history[0]?.at, 't29', 'newest first');
    assert.equal(history[9]?.at, 't20', 'the oldest kept is the tenth newest');
    // dev-002 had one event from the batch above: four in all, fewer than kept.
    const short = await r.devices.history('dev-002', 100);
    assert.equal(short.length, 4, 'a device with fewer events than kept loses none');
    assert.deepEqual(
      short.slice(0, 3).map((e) => e.at),
      ['u2', 'u1', 'u0'],
    );
    assert.equal(await r.devices.setPin('dev-001', '1.0.0'), true);
    assert.equal((await r.devices.get('dev-001'))?.pinnedVersion, '1.0.0');
    assert.deepEqual(await r.devices.listPins(), [{ id: 'dev-001', product: 'p1', version: '1.0.0' }]);
    await r.devices.saveBatch({
      devices: [device('dev-001', '2026-03-03T00:00:00.000Z')],
      events: [],
      checkInsByHour: new Map(),
    });
    assert.equal((await r.devices.get('dev-001'))?.pinnedVersion, '1.0.0', 'a check-in never clears a pin');
    assert.equal(await r.devices.setPin('nope', null), false);
    assert.equal(await r.devices.delete('dev-001'), true);
    assert.equal(await r.devices.get('dev-001'), undefined);
  });

  it('devices: writeCheckIns folds a batch into the stored rows, writes events and counts, trims, returns moves', async () => {
    const r = await make();
    await r.devices.saveBatch({
      devices: [device('dev-a', '2026-03-01T00:00:00.000Z', '1.0.0')],
      events: Array.from({ length: 12 }, (_, i) => ({
        deviceId: 'dev-a',
        at: `2026-03-01T00:00:${String(i).padStart(2, '0')}.000Z`,
        kind: 'check-in' as const,
        version: '1.0.0',
        detail: null,
      })),
      checkInsByHour: new Map(),
    });
    // 1,200 check-ins of 600 devices (each twice, the second reporting a new version), more than one statement
    // holds on either database, then a download event recorded directly.
    const checkIns = Array.from({ length: 1200 }, (_, i) => ({
      deviceId: i % 600 === 0 ? 'dev-a' : `dev-n${i % 600}`,
      protocol: 'test',
      product: 'p1',
      version: i < 600 ? '1.0.0' : '1.1.0',
      address: '::ffff:10.0.0.9',
      attributes: { n: String(i) },
      ...(i < 600 ? { offered: '1.1.0' } : {}),
      at: `2026-03-02T0${i < 600 ? 1 : 2}:00:00.000Z`,
    }));
    const moves = await r.devices.writeCheckIns({
      checkIns,
      events: [
        {
          deviceId: 'dev-a',
          at: '2026-03-02T02:00:01.000Z',
          kind: 'download-completed',
          version: '1.1.0',
          detail: null,
        },
      ],
      // dev-a: 12 stored + 5 new events, over the bound of 7, trimmed to 5; dev-n7's 4 stay.
      historyLimit: 5,
      trimAbove: 7,
    });
    const a = await r.devices.get('dev-a');
    assert.equal(a?.version, '1.1.0');
    assert.equal(a?.lastOutcome, 'ok', 'came back on the offered version');
    assert.equal(a?.lastUpdate, '2026-03-02T02:00:00.000Z');
    assert.equal(a?.firstSeen, '2026-03-01T00:00:00.000Z');
    assert.equal(a?.address, '10.0.0.9');
    assert.deepEqual(a?.attributes, { chip: 'x', n: '600' });
    const fresh = await r.devices.get('dev-n7');
    assert.equal(fresh?.firstSeen, '2026-03-02T01:00:00.000Z');
    assert.equal(fresh?.version, '1.1.0');
    assert.equal((await r.devices.list({ limit: 1, offset: 0 })).total, 600);
    assert.deepEqual(
      (await r.devices.history('dev-a', 100)).map((e) => e.kind),
      ['download-completed', 'updated', 'check-in', 'offered', 'check-in'],
      'trimmed to the newest 5, newest first',
    );
    assert.equal((await r.devices.history('dev-n7', 100)).length, 4, 'check-in, offered, check-in, updated');
    const stats = await r.devices.stats('2026-03-02T00:00:00.000Z');
    assert.deepEqual(stats.checkInsPerHour, [
      { hour: '2026-03-02T01', count: 600 },
      { hour: '2026-03-02T02', count: 600 },
    ]);
    // Each new device appeared on 1.0.0 (599), then every device moved 1.0.0 → 1.1.0 (600).
    const spelled = moves.map(([from, to]) => `${from?.version ?? 'none'}>${to.version}`);
    assert.equal(spelled.length, 1199);
    assert.equal(spelled.filter((m) => m === 'none>1.0.0').length, 599);
    assert.equal(spelled.filter((m) => m === '1.0.0>1.1.0').length, 600);
    assert.deepEqual(
      await r.devices.writeCheckIns({ checkIns: [], events: [], historyLimit: 5, trimAbove: 7 }),
      [],
    );
  });

  it('tokens and settings', async () => {
    const r = await make();
    const t = {
      id: 't1',
      kind: 'device' as const,
      name: 'n',
      hash: 'h'.repeat(64),
      product: 'p',
      device: null,
      createdAt: 'x',
    };
    await r.tokens.create(t);
    await assert.rejects(r.tokens.create({ ...t, id: 't2' }));
    assert.deepEqual(await r.tokens.list('device'), [t]);
    assert.deepEqual(await r.tokens.list('admin'), []);
    assert.equal(await r.tokens.delete('t1'), true);
    assert.equal(await r.tokens.delete('t1'), false);
    await r.settings.set('a:1', 'x');
    await r.settings.set('a:2', 'y');
    await r.settings.set('b:1', 'z');
    await r.settings.set('a:1', 'x2');
    assert.deepEqual(await r.settings.list('a:'), [
      ['a:1', 'x2'],
      ['a:2', 'y'],
    ]);
    assert.equal(await r.settings.increment('seq', 100), 100);
    assert.equal(await r.settings.increment('seq', 0), 101);
    assert.equal(await r.settings.increment('seq', 500), 500);
    await r.settings.delete('a:1');
    assert.equal(await r.settings.get('a:1'), undefined);
  });

  it('audit: a change and its record commit together, or neither does; filters and cursor', async () => {
    const r = await make();
    const log = createAuditLog({ unitOfWork: r.unitOfWork, entries: r.audit });
    const as = { actor: { id: 't1', name: 'ops' }, address: '192.0.2.7' };
    await log.withAudit(as, 'product.create', 'p1', (tx) => tx.products.create(product('p1')));
    await log.withAudit(as, 'release.create', 'p1@1.0.0', (tx) => tx.releases.create(release('r1', '1.0.0')));
    // The work fails after its change: the change is rolled back and nothing is recorded.
    await assert.rejects(
      log.withAudit(SYSTEM, 'product.create', 'p2', async (tx) => {
        await tx.products.create(product('p2'));
        throw new Error('crash after the change');
      }),
      /crash after the change/,
    );
    assert.equal(await r.products.get('p2'), undefined);
    const page = await log.list({ limit: 10 });
    assert.deepEqual(
      page.items.map((e) => [e.action, e.target, e.actor.name, e.address]),
      [
        ['release.create', 'p1@1.0.0', 'ops', '192.0.2.7'],
        ['product.create', 'p1', 'ops', '192.0.2.7'],
      ],
    );
    assert.equal(page.next, null);
    assert.equal((await log.list({ limit: 1 })).next, page.items[0]?.id);
    assert.equal((await log.list({ limit: 10, before: page.items[0]?.id })).items.length, 1);
    assert.equal((await log.list({ limit: 10, target: 'p1' })).items.length, 2);
    assert.equal((await log.list({ limit: 10, action: 'release' })).items.length, 1);
    assert.equal((await log.list({ limit: 10, action: 'rel' })).items.length, 0);
    assert.equal((await log.list({ limit: 10, actor: 't1' })).items.length, 2);
    assert.equal((await log.list({ limit: 10, actor: 'nobody' })).items.length, 0);
    // The record cannot be written: the change it describes is rolled back.
    await r.breakAuditLog();
    await assert.rejects(
      log.withAudit(SYSTEM, 'product.create', 'p3', (tx) => tx.products.create(product('p3'))),
    );
    assert.equal(await r.products.get('p3'), undefined);
    await assert.rejects(
      log.withAudit(SYSTEM, 'release.delete', 'p1@1.0.0', (tx) => tx.releases.delete('r1')),
    );
    assert.equal((await r.releases.getById('r1'))?.version, '1.0.0', 'a nested transaction took part');
  });
}
