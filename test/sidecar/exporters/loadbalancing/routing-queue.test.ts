// The queue before routing: bounded in batches and bytes, counting batches parked for a retry, and
// a parked batch does not keep the consumers from the ones behind it.
import assert from 'node:assert/strict';
import { RoutingQueue } from '../../../../sidecar/exporters/loadbalancing/routing-queue.ts';

const b = (bytes: number, name = '') => ({ bytes, name });

describe('loadbalancing routing queue', () => {
  it('refuses a batch over queue_size or max_bytes, counting taken and parked batches', async () => {
    const q = new RoutingQueue<{ bytes: number; name: string }>(3, 1000);
    assert.ok(q.offer(b(400, 'a')));
    assert.ok(q.offer(b(400, 'b')));
    assert.equal(q.offer(b(300)), false, 'bytes');
    const a = (await q.take())!;
    q.retryLater(a, b(300, 'a-rest'), 60_000);
    assert.equal(q.bytes, 700, 'the parked remainder stays in the bound');
    assert.ok(q.offer(b(200, 'c')));
    assert.equal(q.offer(b(10)), false, 'count: queued, parked and taken batches');
    assert.equal((await q.take())!.name, 'b', 'the parked batch does not block the next');
    q.wakeAll();
    assert.equal((await q.take())!.name, 'c');
    assert.equal((await q.take())!.name, 'a-rest');
  });

  it('accepts one batch larger than max_bytes into an empty queue only', () => {
    const q = new RoutingQueue<{ bytes: number; name: string }>(10, 100);
    assert.ok(q.offer(b(500)));
    assert.equal(q.offer(b(1)), false);
  });

  it('after close, consumers get what is left, parked batches included, then undefined', async () => {
    const q = new RoutingQueue<{ bytes: number; name: string }>(10, 1000);
    q.offer(b(1, 'x'));
    const x = (await q.take())!;
    q.retryLater(x, b(1, 'x-rest'), 20);
    q.close();
    assert.equal(q.offer(b(1)), false);
    const rest = (await q.take())!;
    assert.equal(rest.name, 'x-rest');
    q.done(rest);
    assert.equal(await q.take(), undefined);
  });
});
