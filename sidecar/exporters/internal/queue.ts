// A FIFO bounded both in requests and in bytes. Consumers wait on `take()`; `close()` lets them
// finish what is queued and then return. Array plus head index: O(1) offer and take without
// Array.shift's copying; the array is compacted when the consumed prefix dominates.
// The byte bound covers what the queue holds and what its consumers took and still hold (sending,
// or waiting to retry while the backend refuses): a consumer calls done(r) when it lets go of r.
// Otherwise every retrying consumer would hold a request outside the bound, and the exporter's
// memory would grow by num_consumers requests beyond max_bytes. Offers and done(r) are also counted
// process-wide (runtime/released-memory.ts), for memory_limiter to know when a collection is worth it.
import { noteHeld, noteReleased } from '../../runtime/released-memory.ts';

export interface Sized {
  readonly bytes: number;
}

export class BoundedQueue<R extends Sized> {
  readonly capacity: number;
  readonly capacityBytes: number;
  private items: (R | undefined)[] = [];
  private head = 0;
  private heldBytes = 0;
  private inFlightBytes = 0;
  private closed = false;
  private readonly waiters: ((r: R | undefined) => void)[] = [];

  constructor(capacity: number, capacityBytes: number) {
    this.capacity = capacity;
    this.capacityBytes = capacityBytes;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Bytes queued plus bytes taken by consumers and not yet done. */
  get bytes(): number {
    return this.heldBytes + this.inFlightBytes;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Adds a request, or returns false when it does not fit. A request larger than the byte bound
   * fits only when nothing is queued or in flight (otherwise it could never be accepted and its
   * sender would retry forever).
   */
  offer(r: R): boolean {
    if (this.closed) return false;
    if (this.bytes > 0 && this.bytes + r.bytes > this.capacityBytes) return false;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      // A consumer is idle: hand over directly; the queue stays empty.
      this.inFlightBytes += r.bytes;
      noteHeld(r.bytes);
      waiter(r);
      return true;
    }
    if (this.size >= this.capacity) return false;
    this.items.push(r);
    this.heldBytes += r.bytes;
    noteHeld(r.bytes);
    return true;
  }

  /** The oldest request; waits when empty; undefined once closed and empty. */
  take(): Promise<R | undefined> {
    const r = this.poll();
    if (r !== undefined || this.closed) return Promise.resolve(r);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The oldest request or undefined, without waiting; the caller calls done(r) when finished with it. */
  poll(): R | undefined {
    if (this.head >= this.items.length) return undefined;
    const r = this.items[this.head]!;
    this.items[this.head] = undefined;
    this.head++;
    this.heldBytes -= r.bytes;
    this.inFlightBytes += r.bytes;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return r;
  }

  /** A consumer is done with a request it took (sent, or given up): its bytes leave the bound. */
  done(r: R): void {
    this.inFlightBytes -= r.bytes;
    noteReleased(r.bytes);
  }

  /** No more offers; idle consumers are released, busy ones drain what is left. */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}

/**
 * Hands each request `source` gives to `handle`, one at a time, until it gives none (closed and
 * empty). One call of takeOne per request, not a loop around `await take()`: a suspended async
 * function keeps what its registers held, so such a loop kept the last request it handled (a whole
 * batch per consumer) for as long as it waited for the next one.
 */
export async function consumeEach<R>(source: { take(): Promise<R | undefined> }, handle: (r: R) => Promise<void>): Promise<void> {
  while (await takeOne(source, handle));
}

async function takeOne<R>(source: { take(): Promise<R | undefined> }, handle: (r: R) => Promise<void>): Promise<boolean> {
  const r = await source.take();
  if (r === undefined) return false;
  await handle(r);
  return true;
}
