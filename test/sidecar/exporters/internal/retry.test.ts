import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RetryableError } from '../../../../sidecar/component/errors.ts';
import { Backoff, retryDelay, sleep } from '../../../../sidecar/exporters/internal/retry.ts';

describe('exporter retry backoff', () => {
  it('keeps every wait within ±randomization_factor of an interval that grows by multiplier up to max_interval', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 30 }),
        (initial, factor, multiplier, maxInterval, randoms) => {
          let i = 0;
          const b = new Backoff({ initial_interval: initial, randomization_factor: factor, multiplier, max_interval: maxInterval }, () => randoms[i++ % randoms.length]!);
          let interval = initial;
          for (let n = 0; n < randoms.length; n++) {
            const wait = b.next();
            assert.ok(wait >= Math.floor(interval * (1 - factor)) - 1, `wait ${wait} below ${interval * (1 - factor)}`);
            assert.ok(wait <= Math.ceil(interval * (1 + factor)) + 1, `wait ${wait} above ${interval * (1 + factor)}`);
            interval = Math.min(interval * multiplier, maxInterval);
          }
        },
      ),
    );
  });

  it('follows the collector defaults: 5s, then 7.5s, 11.25s, ... capped at 30s (no jitter at random 0.5)', () => {
    const b = new Backoff({ initial_interval: 5000, randomization_factor: 0.5, multiplier: 1.5, max_interval: 30_000 }, () => 0.5);
    assert.deepEqual(
      Array.from({ length: 7 }, () => b.next()),
      [5000, 7500, 11250, 16875, 25313, 30000, 30000],
    );
  });

  it('raises the wait to a server hint but never lowers it', () => {
    assert.equal(retryDelay(100, new RetryableError('x', { retryAfterMs: 3000 })), 3000);
    assert.equal(retryDelay(5000, new RetryableError('x', { retryAfterMs: 1000 })), 5000);
    assert.equal(retryDelay(250, new Error('plain')), 250);
  });

  it('stops sleeping as soon as the signal aborts', async () => {
    const ac = new AbortController();
    const slept = sleep(60_000, ac.signal);
    ac.abort();
    assert.equal(await slept, false);
    assert.equal(await sleep(1, new AbortController().signal), true);
  });
});
