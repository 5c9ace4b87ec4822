// Caps the V8 heap from the container's memory limit. V8 sizes its heap from the memory it sees:
// Node 24 passes it the cgroup limit, but V8 never goes below its own floor (~256 MiB old space on
// 64-bit), so in a 192 MiB container the heap may grow past the limit and the kernel OOM-kills the
// process before V8 collects its garbage. --max-old-space-size is only read at start, so the sidecar
// re-executes itself (process.execve: same PID, so PID 1 in a container stays PID 1 and gets
// SIGTERM) with the flag, before anything else is loaded. An explicit --max-old-space-size (in
// NODE_OPTIONS or on the command line) wins and nothing is re-executed.
import { getHeapStatistics } from 'node:v8';
import { containerMemoryLimit } from './cgroup.ts';

const MIB = 1024 * 1024;

/** Share of the container limit given to V8's old space: the rest is code, young space, Buffers (spans) and sockets. */
export const HEAP_SHARE = 0.5;
/** Below this the sidecar cannot run its receivers and exporters at all. */
export const MIN_HEAP_MIB = 32;

/** The old-space size, MiB, for a container limit in bytes. */
export function heapCapMiB(limitBytes: number): number {
  return Math.max(MIN_HEAP_MIB, Math.floor((limitBytes * HEAP_SHARE) / MIB));
}

const FLAG = /(^|\s)--max[-_]old[-_]space[-_]size(=|\s|$)/;

/** Whether the heap size was chosen explicitly (command line or NODE_OPTIONS). */
export function heapSizeGiven(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return execArgv.some((a) => FLAG.test(a)) || FLAG.test(nodeOptions ?? '');
}

/**
 * The node arguments to re-execute with, or undefined when the heap is already small enough,
 * the size was given explicitly, or no memory limit is set.
 */
export function heapCapRelaunchArgs(limitBytes: number | undefined, execArgv: readonly string[], nodeOptions: string | undefined, heapLimitBytes: number): string[] | undefined {
  if (limitBytes === undefined || heapSizeGiven(execArgv, nodeOptions)) return undefined;
  const cap = heapCapMiB(limitBytes);
  // heap_size_limit includes the young generation; compare old space with a margin for it.
  if (heapLimitBytes <= cap * MIB) return undefined;
  return [`--max-old-space-size=${cap}`, ...execArgv];
}

/** Re-executes this process with a capped heap when needed; returns only when it does not. */
export function capHeapFromContainerLimit(): void {
  if (typeof process.execve !== 'function') return;
  const args = heapCapRelaunchArgs(containerMemoryLimit()?.bytes, process.execArgv, process.env.NODE_OPTIONS, getHeapStatistics().heap_size_limit);
  if (args === undefined) return;
  process.execve(process.execPath, [process.execPath, ...args, ...process.argv.slice(1)], process.env);
}
