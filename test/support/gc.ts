// A full garbage collection on demand, for tests that check what the sidecar keeps alive (WeakRef
// of a payload after it was delivered): node's gc() without starting mocha with --expose-gc.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/** Lets pending callbacks run, then collects garbage (a full, synchronous GC). */
export async function collectGarbage(): Promise<void> {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  await new Promise((r) => setImmediate(r));
  gc();
}
