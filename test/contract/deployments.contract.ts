import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { DeploymentRepository, DeploymentRow } from '../../src/core/deployments/ports.js';
import type { GroupRepository, TagRepository } from '../../src/core/groups/types.js';
import type { DeviceRepository } from '../../src/core/devices/ports.js';
import type { Device } from '../../src/core/devices/types.js';

export interface DeploymentRepositories {
  deployments: DeploymentRepository;
  groups: GroupRepository;
  tags: TagRepository;
  devices: DeviceRepository;
}

const T0 = '2026-03-01T00:00:00.000Z';
const T1 = '2026-03-01T00:01:00.000Z';

const row = (id: string, over: Partial<DeploymentRow> = {}): DeploymentRow => ({
  id,
  product: 'p1',
  version: '2.0.0',
  state: 'scheduled',
  currentWave: 0,
  spec: {
    target: { groups: ['g'], devices: [], filter: 'tag=x' },
    waves: [
      { spec: '10%', upTo: 0.1 },
      { spec: '100%', upTo: 1 },
    ],
    soakSeconds: 60,
    successPercent: 95,
    maxFailures: '5%',
    minFinal: 3,
    timeoutSeconds: 3600,
    window: { start: '01:00', end: '05:00', timeZone: 'Europe/Berlin' },
    rollback: true,
    options: { 'ddi.download': 'forced' },
  },
  waveOpenedAt: null,
  soakUntil: null,
  failureBase: 0,
  haltReason: null,
  createdAt: T0,
  updatedAt: T0,
  ...over,
});

const device = (id: string, version: string): Device => ({
  id,
  product: 'p1',
  version,
  firstSeen: T0,
  lastSeen: T0,
  lastUpdate: null,
  address: null,
  protocol: 'esp8266-httpupdate',
  userAgent: null,
  lastOffered: null,
  lastOutcome: null,
  pinnedVersion: null,
  attributes: { 'chip-size': '4194304' },
});

const countsOf = async (r: DeploymentRepositories, id: string) =>
  Object.fromEntries(
    (await r.deployments.counts(id))
      .filter((c) => c.count !== 0)
      .map((c) => [`${c.wave}:${c.state}`, c.count]),
  );

/** The deployments, groups and tags ports, run on every implementation (SQLite, PostgreSQL). */
export function deploymentRepositoriesContract(open: () => Promise<DeploymentRepositories>): void {
  it('creates a deployment with its pending members and counters in one step, and reads it back', async () => {
    const r = await open();
    const members = Array.from({ length: 500 }, (_, i) => ({
      deviceId: `d${String(i).padStart(3, '0')}`,
      wave: i < 50 ? 0 : 1,
      protocol: 'esp8266-httpupdate',
    }));
    await r.deployments.create(row('dep-a'), members);
    assert.deepEqual(await r.deployments.get('dep-a'), row('dep-a'));
    assert.equal(await r.deployments.get('nope'), undefined);
    assert.deepEqual(await countsOf(r, 'dep-a'), { '0:pending': 50, '1:pending': 450 });
    assert.deepEqual(await r.deployments.touched('dep-a'), []);
    const m = await r.deployments.device('dep-a', 'd007');
    assert.equal(m?.state, 'pending');
    assert.equal(m?.wave, 0);
    const events = await r.deployments.events('dep-a', { limit: 10 });
    assert.deepEqual(
      events.map((e) => [e.kind, e.detail]),
      [['created', '500 devices in 2 waves']],
    );
  });

  it('advances a deployment only from the state it was read in (two processes: one wins)', async () => {
    const r = await open();
    await r.deployments.create(row('dep-b'), []);
    const expected = { state: 'scheduled' as const, currentWave: 0 };
    const patch = { state: 'running' as const, waveOpenedAt: T1, updatedAt: T1 };
    const results = await Promise.all([
      r.deployments.advance('dep-b', expected, patch, { kind: 'wave-opened', detail: 'wave 1' }),
      r.deployments.advance('dep-b', expected, patch, { kind: 'wave-opened', detail: 'wave 1' }),
    ]);
    assert.deepEqual(results.sort(), [false, true]);
    const got = await r.deployments.get('dep-b');
    assert.equal(got?.state, 'running');
    assert.equal(got?.waveOpenedAt, T1);
    assert.equal(got?.updatedAt, T1);
    const kinds = (await r.deployments.events('dep-b', { limit: 10 })).map((e) => e.kind);
    assert.deepEqual(kinds, ['created', 'wave-opened'], 'the losing step records nothing');
    assert.equal(
      await r.deployments.advance(
        'dep-b',
        { state: 'running', currentWave: 1 },
        { updatedAt: T1 },
        { kind: 'x', detail: null },
      ),
      false,
      'wrong wave',
    );
  });

  it('moves a member conditionally, keeping the counters and the events in step', async () => {
    const r = await open();
    await r.deployments.create(row('dep-c'), [{ deviceId: 'm1', wave: 0, protocol: null }]);
    const offer = {
      deploymentId: 'dep-c',
      deviceId: 'm1',
      wave: 0,
      from: 'pending' as const,
      to: 'offered' as const,
      at: T1,
      protocol: 'esp-at',
      previousVersion: '1.0.0',
    };
    const [a, b] = await Promise.all([
      r.deployments.moveDevice(offer, 'wave 1'),
      r.deployments.moveDevice(offer, 'wave 1'),
    ]);
    assert.deepEqual([a, b].sort(), ['moved', undefined].sort());
    assert.equal(
      await r.deployments.moveDevice({ ...offer, from: 'downloading', to: 'failed' }, null),
      undefined,
      'not in that state',
    );
    const m = await r.deployments.device('dep-c', 'm1');
    assert.deepEqual(
      [m?.state, m?.protocol, m?.previousVersion, m?.offeredAt, m?.updatedAt],
      ['offered', 'esp-at', '1.0.0', null, T1],
      'offeredAt is set by the caller only',
    );
    assert.deepEqual(await countsOf(r, 'dep-c'), { '0:offered': 1 });
    // A late joiner (not a member yet) joins on its first move out of pending.
    assert.equal(
      await r.deployments.moveDevice(
        { ...offer, deviceId: 'late', wave: 1, offeredAt: T1, reason: 'r' },
        'joined',
      ),
      'joined',
    );
    assert.deepEqual(await countsOf(r, 'dep-c'), { '0:offered': 1, '1:offered': 1 });
    assert.equal(
      await r.deployments.moveDevice({ ...offer, deviceId: 'late', wave: 1 }, null),
      undefined,
      'a member no longer pending does not join twice',
    );
    const late = await r.deployments.device('dep-c', 'late');
    assert.deepEqual([late?.offeredAt, late?.reason], [T1, 'r']);
    assert.deepEqual((await r.deployments.touched('dep-c')).map((x) => x.deviceId).sort(), ['late', 'm1']);
    const stale = await r.deployments.stale('dep-c', ['offered'], '2026-03-01T00:02:00.000Z', null, 10);
    assert.deepEqual(
      stale.map((x) => x.deviceId),
      ['late'],
      'm1 has no offeredAt',
    );
    assert.deepEqual(
      (await r.deployments.stale('dep-c', ['offered'], null, 0, 10)).map((x) => x.deviceId),
      ['m1'],
    );
    const events = await r.deployments.events('dep-c', { limit: 10, deviceId: 'late' });
    assert.deepEqual(
      events.map((e) => e.kind),
      ['joined, offered'],
    );
    const paged = await r.deployments.events('dep-c', { limit: 1, afterId: (events[0]?.id ?? 0) - 1 });
    assert.equal(paged.length, 1);
  });

  it('lists deployments by product and state, newest first', async () => {
    const r = await open();
    await r.deployments.create(row('dep-1', { createdAt: T0 }), []);
    await r.deployments.create(row('dep-2', { createdAt: T1, product: 'p2', state: 'completed' }), []);
    assert.deepEqual(
      (await r.deployments.list()).map((d) => d.id),
      ['dep-2', 'dep-1'],
    );
    assert.deepEqual(
      (await r.deployments.list({ product: 'p1' })).map((d) => d.id),
      ['dep-1'],
    );
    assert.deepEqual(
      (await r.deployments.list({ states: ['completed', 'running'] })).map((d) => d.id),
      ['dep-2'],
    );
  });

  it('scans the devices of a product in id order, page by page', async () => {
    const r = await open();
    const devices = Array.from({ length: 7 }, (_, i) => device(`dev-${i}`, '1.0.0'));
    await r.devices.saveBatch({
      devices: [...devices, { ...device('other', '1.0.0'), product: 'p2' }],
      events: [],
      checkInsByHour: new Map(),
    });
    const first = await r.deployments.scanDevices('p1', '', 4);
    assert.deepEqual(
      first.map((d) => d.id),
      ['dev-0', 'dev-1', 'dev-2', 'dev-3'],
    );
    const rest = await r.deployments.scanDevices('p1', 'dev-3', 4);
    assert.deepEqual(
      rest.map((d) => d.id),
      ['dev-4', 'dev-5', 'dev-6'],
    );
    assert.deepEqual(rest[0]?.attributes, { 'chip-size': '4194304' });
    assert.equal(rest[0]?.protocol, 'esp8266-httpupdate');
  });

  it('keeps groups: static with members, dynamic with a filter; names are unique', async () => {
    const r = await open();
    const g = { name: 'lab', kind: 'static' as const, filter: null, devices: ['a', 'b'], createdAt: T0 };
    assert.equal(await r.groups.create(g), true);
    assert.equal(await r.groups.create(g), false);
    assert.equal(
      await r.groups.create({
        name: 'old',
        kind: 'dynamic',
        filter: 'version<2.0.0',
        devices: [],
        createdAt: T1,
      }),
      true,
    );
    assert.deepEqual(await r.groups.get('lab'), g);
    assert.deepEqual(
      (await r.groups.list()).map((x) => x.name),
      ['lab', 'old'],
    );
    assert.equal(await r.groups.delete('lab'), true);
    assert.equal(await r.groups.delete('lab'), false);
    assert.equal(await r.groups.get('lab'), undefined);
  });

  it('keeps device tags: add is idempotent, set replaces, remove removes', async () => {
    const r = await open();
    await r.tags.add('d1', ['eu', 'lab']);
    await r.tags.add('d1', ['lab', 'beta']);
    assert.deepEqual(await r.tags.of('d1'), ['beta', 'eu', 'lab']);
    await r.tags.remove('d1', ['eu', 'missing']);
    assert.deepEqual(await r.tags.of('d1'), ['beta', 'lab']);
    await r.tags.set('d2', ['x']);
    await r.tags.set('d1', ['y']);
    assert.deepEqual(Object.fromEntries(await r.tags.all()), { d1: ['y'], d2: ['x'] });
    await r.tags.set('d2', []);
    assert.deepEqual(await r.tags.of('d2'), []);
  });
}
