import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PendingQueue } from '../../src/core/devices/pending-queue.js';

/** Everything queued, oldest first, without changing the queue's order (taken, then put back). */
function contents<T>(queue: PendingQueue<T>): T[] {
  const all = queue.take(queue.length);
  queue.putBack(all);
  return all;
}

describe('write-behind queue', () => {
  it('is first in, first out, and drops the oldest at its bound', () => {
    const queue = new PendingQueue<number>(3);
    assert.equal(queue.push(1), false);
    assert.equal(queue.push(2), false);
    assert.equal(queue.push(3), false);
    assert.equal(queue.push(4), true, 'full: the push drops one');
    assert.equal(queue.length, 3);
    assert.deepEqual(queue.take(2), [2, 3]);
    assert.deepEqual(queue.take(5), [4], 'fewer than asked when fewer are queued');
    assert.deepEqual(queue.take(1), []);
    assert.equal(queue.length, 0);
  });

  it('puts a failed batch back in front of what came since, keeping the newest at its bound', () => {
    const queue = new PendingQueue<string>(4);
    for (const item of ['a', 'b', 'c']) queue.push(item);
    const batch = queue.take(2);
    queue.push('d');
    queue.push('e');
    assert.equal(queue.putBack(batch), 1, 'a, b, c, d, e is one more than the bound');
    assert.deepEqual(contents(queue), ['b', 'c', 'd', 'e']);
    assert.equal(queue.putBack([]), 0);
  });

  it('finds the newest match without taking it', () => {
    const queue = new PendingQueue<{ id: string; n: number }>(10);
    for (let n = 0; n < 6; n++) queue.push({ id: n % 2 ? 'odd' : 'even', n });
    queue.take(1);
    assert.equal(queue.findNewest((x) => x.id === 'odd')?.n, 5);
    assert.equal(queue.findNewest((x) => x.id === 'even' && x.n < 3)?.n, 2);
    assert.equal(
      queue.findNewest((x) => x.n === 0),
      undefined,
      'taken records are not searched',
    );
    assert.equal(queue.length, 5);
  });

  it('agrees with a plain array over many pushes, takes and put-backs across its compactions', () => {
    // A seeded linear congruential generator: the same sequence of operations on every run.
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const max = 5000;
    const queue = new PendingQueue<number>(max);
    let model: number[] = [];
    let next = 0;
    for (let step = 0; step < 20_000; step++) {
      const op = random(10);
      if (op < 7) {
        const dropped = queue.push(next);
        model.push(next++);
        assert.equal(dropped, model.length > max);
        if (model.length > max) model.shift();
      } else if (op < 9) {
        const count = random(300);
        assert.deepEqual(queue.take(count), model.splice(0, count));
      } else {
        const count = random(300);
        const batch = queue.take(count);
        model.splice(0, batch.length);
        for (let i = 0; i < random(50); i++) {
          queue.push(next);
          model.push(next++);
          if (model.length > max) model.shift();
        }
        const all = [...batch, ...model];
        assert.equal(queue.putBack(batch), Math.max(0, all.length - max));
        model = all.slice(Math.max(0, all.length - max));
      }
      assert.equal(queue.length, model.length);
    }
    assert.deepEqual(contents(queue), model);
  });
});
