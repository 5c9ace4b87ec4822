import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BoundedQueue } from '../../../../sidecar/exporters/internal/queue.ts';

const item = (bytes: number, id = 0) => ({ bytes, id });

describe('exporter sending queue', () => {
  it('refuses beyond queue_size requests', () => {
    const q = new BoundedQueue(2, 1 << 20);
    assert.equal(q.offer(item(10)), true);
    assert.equal(q.offer(item(10)), true);
    assert.equal(q.offer(item(10)), false);
    assert.equal(q.size, 2);
  });

  it('refuses beyond max_bytes, but takes one oversized request into an empty queue', () => {
    const q = new BoundedQueue(100, 1000);
    assert.equal(q.offer(item(600)), true);
    assert.equal(q.offer(item(600)), false, 'would exceed the byte bound');
    assert.equal(q.offer(item(400)), true);
    assert.equal(q.bytes, 1000);
    const empty = new BoundedQueue(100, 1000);
    assert.equal(empty.offer(item(5000)), true, 'an oversized request must not wedge an idle exporter');
    assert.equal(empty.offer(item(1)), false);
  });

  it('counts requests being sent or retried by consumers against max_bytes until they are done', async () => {
    const q = new BoundedQueue<{ bytes: number; id: number }>(100, 1000);
    assert.equal(q.offer(item(600, 1)), true);
    const taken = await q.take();
    assert.equal(taken?.id, 1);
    // A consumer holds it (the backend refuses, it retries): its bytes still count.
    assert.equal(q.bytes, 600);
    assert.equal(q.offer(item(600, 2)), false, 'queued + in flight would exceed max_bytes');
    assert.equal(q.offer(item(400, 3)), true);
    // An idle consumer does not take what the budget has no room for either.
    const idle = q.take();
    assert.equal((await idle)?.id, 3);
    assert.equal(q.offer(item(1, 4)), false);
    q.done(taken);
    assert.equal(q.bytes, 400);
    assert.equal(q.offer(item(600, 5)), true);
  });

  it('is FIFO, hands requests straight to waiting consumers and releases them on close', async () => {
    const q = new BoundedQueue<{ bytes: number; id: number }>(10, 1 << 20);
    const waiting = q.take();
    assert.equal(q.offer(item(1, 1)), true);
    assert.equal((await waiting)?.id, 1);
    assert.equal(q.size, 0);
    q.offer(item(1, 2));
    q.offer(item(1, 3));
    const idle = [q.take(), q.take(), q.take()];
    q.close();
    assert.deepEqual((await Promise.all(idle)).map((r) => r?.id), [2, 3, undefined]);
    assert.equal(q.offer(item(1)), false, 'closed');
  });

  it('keeps size and bytes consistent over any sequence of offers and takes', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constant(-1)), { maxLength: 3000 }), (ops) => {
        const q = new BoundedQueue<{ bytes: number; id: number }>(50, 2000);
        const model: { bytes: number; id: number }[] = [];
        ops.forEach((op, id) => {
          if (op === -1) {
            const r = q.poll();
            assert.equal(r?.id, model.shift()?.id);
            if (r !== undefined) q.done(r);
          } else {
            const held = model.reduce((n, r) => n + r.bytes, 0);
            const fits = model.length < 50 && (model.length === 0 || held + op <= 2000);
            assert.equal(q.offer({ bytes: op, id }), fits);
            if (fits) model.push({ bytes: op, id });
          }
          assert.equal(q.size, model.length);
          assert.equal(q.bytes, model.reduce((n, r) => n + r.bytes, 0));
        });
      }),
    );
  });
});
