import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLoadingCache, createSnapshot, ExpiringMap } from '../../src/core/cache.js';
import { createLocalEventBus, type BusMessage } from '../../src/core/events/event-bus.js';

/** A clock the test moves. */
function manualClock(start = Date.parse('2026-01-01T00:00:00Z')) {
  let now = start;
  return { clock: () => new Date(now), advance: (ms: number) => (now += ms) };
}

/** Two "replicas": each bus hands what it publishes to the other, as LISTEN/NOTIFY or the cluster primary does. */
function linkedBuses() {
  const buses: ReturnType<typeof createLocalEventBus>[] = [];
  const relay = (from: number) => (m: BusMessage) => buses[1 - from]?.receive(m);
  buses.push(createLocalEventBus(relay(0)), createLocalEventBus(relay(1)));
  return buses as [ReturnType<typeof createLocalEventBus>, ReturnType<typeof createLocalEventBus>];
}

describe('the cache helper', () => {
  it('expires on the injected clock, shares one load between concurrent misses, and does not keep failures', async () => {
    const { clock, advance } = manualClock();
    let loads = 0;
    let fail = false;
    const cache = createLoadingCache<string>({
      name: 't',
      ttlMs: 1000,
      clock,
      load: async (k) => {
        loads++;
        if (fail) throw new Error('db down');
        return `${k}:${loads}`;
      },
    });
    const [a, b] = await Promise.all([cache.get('x'), cache.get('x')]);
    assert.equal(a, 'x:1');
    assert.equal(b, 'x:1');
    assert.equal(loads, 1);
    advance(999);
    assert.equal(await cache.get('x'), 'x:1', 'still fresh 999 ms later');
    advance(2);
    assert.equal(await cache.get('x'), 'x:2', 'expired after the TTL on the injected clock');
    advance(1001);
    fail = true;
    await assert.rejects(cache.get('x'), /db down/);
    fail = false;
    assert.equal(await cache.get('x'), 'x:4', 'the failed load was not cached');
  });

  it('invalidation is one call that reaches the caches of the same name in another process', async () => {
    const [busA, busB] = linkedBuses();
    let version = 1;
    const load = async () => `v${version}`;
    const here = createSnapshot({ name: 'tokens', ttlMs: 60_000, bus: busA, load });
    const there = createSnapshot({ name: 'tokens', ttlMs: 60_000, bus: busB, load });
    const unrelated = createSnapshot({ name: 'products', ttlMs: 60_000, bus: busB, load });
    assert.equal(await here.get(), 'v1');
    assert.equal(await there.get(), 'v1');
    assert.equal(await unrelated.get(), 'v1');
    version = 2;
    here.invalidate();
    assert.equal(await here.get(), 'v2');
    assert.equal(await there.get(), 'v2', 'the other replica dropped its copy');
    assert.equal(await unrelated.get(), 'v1', 'a cache of another name kept its copy');
    busB.receive({ kind: 'invalidate', cache: '*' });
    assert.equal(await unrelated.get(), 'v2', '"*" (a bus that may have missed messages) drops every cache');
  });

  it('a load that was in flight during an invalidation answers its caller but is not kept', async () => {
    let version = 1;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const cache = createLoadingCache<string>({
      name: 'published',
      ttlMs: 60_000,
      load: async () => {
        const seen = `v${version}`;
        if (seen === 'v1') await gate;
        return seen;
      },
    });
    const pending = cache.get('p');
    version = 2;
    cache.invalidate('p');
    release();
    assert.equal(await pending, 'v1');
    assert.equal(await cache.get('p'), 'v2', 'the stale answer was not cached');
  });

  it('ExpiringMap: bounded, expires on the clock, touch extends', () => {
    const { clock, advance } = manualClock();
    const map = new ExpiringMap<string, number>(2, 1000, clock);
    map.set('a', 1);
    map.set('b', 2);
    map.set('c', 3);
    assert.equal(map.get('a'), undefined, 'the oldest went when the bound was reached');
    advance(600);
    assert.equal(map.get('b', { touch: true }), 2);
    advance(600);
    assert.equal(map.get('c'), undefined, 'c expired');
    assert.equal(map.get('b'), 2, 'b was touched');
    map.deleteWhere((v) => v === 2);
    assert.equal(map.get('b'), undefined);
  });

  it('ExpiringMap with a byte bound still keeps at most maxEntries, and at most the bytes', () => {
    const { clock } = manualClock();
    const map = new ExpiringMap<string, Buffer>(2, 60_000, clock, { max: 100, sizeOf: (b) => b.length });
    map.set('a', Buffer.alloc(10));
    map.set('b', Buffer.alloc(10));
    map.set('a', Buffer.alloc(10)); // a replacement is not a new entry: nothing is evicted
    assert.equal(map.size, 2);
    assert.ok(map.get('b'));
    map.set('c', Buffer.alloc(10));
    assert.equal(map.size, 2, 'the least recently used went when the entry bound was reached');
    assert.equal(map.get('a'), undefined);
    map.set('d', Buffer.alloc(90));
    assert.ok(map.byteSize <= 100, `bytes held ${map.byteSize}`);
    assert.ok(map.get('d'));
  });

  it('a loading cache without a size bound keeps at most `max` entries', async () => {
    const cache = createLoadingCache<string>({ name: 'bounded', max: 3, load: async (k) => k.toUpperCase() });
    for (const k of ['a', 'b', 'c', 'd', 'e']) await cache.get(k);
    assert.equal(['a', 'b', 'c', 'd', 'e'].filter((k) => cache.has(k)).length, 3);
    assert.ok(cache.has('e') && !cache.has('a'), 'the oldest went first');
    cache.close();
  });
});
