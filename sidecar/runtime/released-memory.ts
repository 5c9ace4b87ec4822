// What sending queues hold and what they have let go of: export requests are counted as held
// when queued (or sent inline) and as released when an exporter is done with them (delivered, or
// given up after retries). Held for seconds or minutes, their objects were promoted to V8's old
// generation, so their memory (ArrayBuffers, outside V8's heap) comes back only with a full
// collection, and V8 may not run one for minutes once the process is quiet. memory_limiter reads
// this to force one when a lot has been let go of since the last full collection, V8's own or
// forced. Process-wide counts, as a runtime's memory statistics are: one forced collection serves
// every pipeline's limiter.
import type { PerformanceObserver } from 'node:perf_hooks';

let held = 0;
let released = 0;
let releasedAtCollection = 0;
let observer: PerformanceObserver | undefined;

/** `bytes` more held by a sending queue. */
export function noteHeld(bytes: number): void {
  held += bytes;
}

/** `bytes` let go of by a sending queue. */
export function noteReleased(bytes: number): void {
  held -= bytes;
  released += bytes;
}

export interface ReleasedMemory {
  /** Bytes let go of since the last full collection. */
  sinceCollection(): number;
  /** Bytes sending queues hold now. */
  held(): number;
  /** A full collection just ran (the caller forced one). */
  collected(): void;
}

export const releasedMemory: ReleasedMemory = {
  sinceCollection() {
    watchCollections();
    return released - releasedAtCollection;
  },
  held: () => held,
  collected() {
    releasedAtCollection = released;
  },
};

/**
 * V8's own full collections (mark-compact) free what was let go of too: under load they come every
 * second or so, and a forced one after them would free nothing. Watched from the first read on, so
 * a process without a memory_limiter pays nothing for it.
 */
function watchCollections(): void {
  if (observer !== undefined) return;
  // node:perf_hooks on first use only: most starts never read this.
  const { constants, PerformanceObserver } = process.getBuiltinModule('node:perf_hooks');
  observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) releasedAtCollection = released;
  });
  observer.observe({ entryTypes: ['gc'] });
}
