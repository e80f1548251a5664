import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OfferWindow } from '../../src/core/deployments/offer-window.js';

describe('deployment offer window (the rate cap)', () => {
  it('counts the offers after a cutoff, knows the oldest, and forgets one that did not happen', () => {
    const window = new OfferWindow();
    assert.equal(window.oldest(), undefined);
    for (const at of [10, 20, 30, 40]) window.add(at);
    window.forgetUpTo(20);
    assert.equal(window.count, 2);
    assert.equal(window.oldest(), 30);
    window.remove(30);
    assert.equal(window.oldest(), 40);
    window.remove(10); // already forgotten: nothing changes
    assert.equal(window.count, 1);
    window.forgetUpTo(40);
    assert.equal(window.count, 0);
    assert.equal(window.oldest(), undefined);
  });

  it('agrees with a plain array over a long rollout, across its compactions', () => {
    const window = new OfferWindow();
    let model: number[] = [];
    let seed = 11;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let now = 0;
    for (let step = 0; step < 50_000; step++) {
      now += random(3);
      const op = random(20);
      if (op < 15) {
        window.add(now);
        model.push(now);
      } else if (op < 19) {
        window.forgetUpTo(now - 3000);
        model = model.filter((t) => t > now - 3000);
      } else if (model.length > 0) {
        const at = model[random(model.length)] as number;
        window.remove(at);
        model.splice(model.indexOf(at), 1);
      }
      assert.equal(window.count, model.length);
      assert.equal(window.oldest(), model[0]);
    }
  });
});
