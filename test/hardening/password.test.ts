import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPasswordVerifier, hashPassword } from '../../src/core/tokens/password.js';
import { createRateLimiter } from '../../src/core/rate-limit.js';

describe('hardening: password verification under a flood (defect 8)', () => {
  it('remembers a failure, so a repeated wrong password costs no second scrypt', async () => {
    const hash = await hashPassword('right', { N: 1024, r: 8, p: 1 });
    const verifier = createPasswordVerifier();
    assert.equal(await verifier.verify('wrong', hash), 'wrong');
    assert.equal(await verifier.verify('wrong', hash), 'wrong');
    assert.equal(verifier.known('wrong', hash), 'wrong');
    assert.equal(verifier.stats().derivations, 1);
    assert.equal(await verifier.verify('right', hash), 'ok');
    assert.equal(await verifier.verify('right', hash), 'ok');
    assert.equal(verifier.stats().derivations, 2);
  });

  it('runs one scrypt at a time and refuses a queue beyond its bound', async () => {
    const hash = await hashPassword('right', { N: 1024, r: 8, p: 1 });
    const verifier = createPasswordVerifier({ maxQueued: 4 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => verifier.verify(`w${i}`, hash)));
    assert.equal(verifier.stats().peakConcurrent, 1);
    assert.equal(results.filter((r) => r === 'busy').length, 5, results.join());
    assert.equal(results.filter((r) => r === 'wrong').length, 5);
  });

  it('refills a token bucket at its rate and bounds the keys it keeps', () => {
    const limiter = createRateLimiter({ burst: 2, perSecond: 1, maxKeys: 2 });
    assert.ok(limiter.take('a', 0));
    assert.ok(limiter.take('a', 0));
    assert.equal(limiter.take('a', 0), false);
    assert.equal(limiter.retryAfter('a', 0), 1);
    assert.ok(limiter.take('a', 1000));
    limiter.take('b', 1000);
    limiter.take('c', 1000); // evicts the oldest key, which starts full again
    assert.ok(limiter.take('a', 1000) && limiter.take('a', 1000));
  });
});
