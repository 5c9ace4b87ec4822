// The load balancer's one queue, before routing: bounded in batches (queue_size) and bytes
// (max_bytes), counting what is queued, being sent, and waiting to be retried. It differs from the
// shared exporters/internal queue in one way that matters here: a batch a backend failed does not
// hold a consumer while it waits out its backoff. The remainder is parked with a timer and comes
// back to the queue when the wait is over, so one backend that is down (still listed by the
// resolver) cannot stall delivery to the others; and since every attempt routes on the ring of
// that moment, the remainder goes to the trace's current owner.
import { noteHeld, noteReleased } from '../../runtime/released-memory.ts';

export interface Sized {
  readonly bytes: number;
}

export class RoutingQueue<R extends Sized> {
  readonly capacity: number;
  readonly capacityBytes: number;
  private ready: R[] = [];
  private held = 0;
  private heldBytes = 0;
  private readonly parked = new Map<NodeJS.Timeout, R>();
  private closed = false;
  private waiters: ((r: R | undefined) => void)[] = [];

  constructor(capacity: number, capacityBytes: number) {
    this.capacity = capacity;
    this.capacityBytes = capacityBytes;
  }

  /** Batches held: queued, being sent, or parked for a retry. */
  get size(): number {
    return this.held;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Adds a batch, or returns false when it does not fit (or the queue is closed). A batch larger
   * than max_bytes fits only into an empty queue, so it cannot wedge the pipeline.
   */
  offer(r: R): boolean {
    if (this.closed || this.held >= this.capacity) return false;
    if (this.heldBytes > 0 && this.heldBytes + r.bytes > this.capacityBytes) return false;
    this.held++;
    this.heldBytes += r.bytes;
    noteHeld(r.bytes);
    this.push(r);
    return true;
  }

  /** The next batch to send; waits when none is ready; undefined once closed and nothing is left. */
  take(): Promise<R | undefined> {
    const r = this.ready.shift();
    if (r !== undefined) return Promise.resolve(r);
    if (this.closed && this.held === 0) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** `next` (what is left of a batch taken) waits `ms` and is queued again; it stays in the bounds meanwhile. */
  retryLater(taken: R, next: R, ms: number): void {
    this.heldBytes += next.bytes - taken.bytes;
    if (next.bytes < taken.bytes) noteReleased(taken.bytes - next.bytes);
    else noteHeld(next.bytes - taken.bytes);
    const timer = setTimeout(() => {
      this.parked.delete(timer);
      this.push(next);
    }, ms);
    timer.unref();
    this.parked.set(timer, next);
  }

  /** A batch taken is finished with (delivered or given up): it leaves the bounds. */
  done(r: R): void {
    this.held--;
    this.heldBytes -= r.bytes;
    noteReleased(r.bytes);
    if (this.closed && this.held === 0) this.releaseWaiters();
  }

  /** No more offers; consumers drain what is queued and parked, then get undefined. */
  close(): void {
    this.closed = true;
    if (this.held === 0) this.releaseWaiters();
  }

  /** Ends every parked wait now (at the drain deadline: the consumers then give the batches up). */
  wakeAll(): void {
    for (const [timer, r] of this.parked) {
      clearTimeout(timer);
      this.push(r);
    }
    this.parked.clear();
  }

  private push(r: R): void {
    const w = this.waiters.shift();
    if (w !== undefined) w(r);
    else this.ready.push(r);
  }

  private releaseWaiters(): void {
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}
