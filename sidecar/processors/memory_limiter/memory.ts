// Memory figures for the limiter. The limit that matters in a pod is the container's cgroup limit
// (the OOM killer enforces it), not the node's total: runtime/cgroup.ts reads it (cgroup v2
// memory.max or v1 memory.limit_in_bytes, on the process's own cgroup and its ancestors).
import { totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { containerMemoryLimit, DEFAULT_CGROUP_PATHS, parseCgroupLimit, type CgroupPaths } from '../../runtime/cgroup.ts';
import { residentMemory, type ResidentMemory } from '../../runtime/resident-memory.ts';

export { parseCgroupLimit };

export interface AvailableMemory {
  bytes: number;
  source: 'cgroup' | 'total';
  /** The cgroup file the limit came from. */
  file?: string;
}

/** The memory the process may use: the cgroup limit, else the machine's total memory. */
export function availableMemory(paths: CgroupPaths = DEFAULT_CGROUP_PATHS): AvailableMemory {
  const limit = containerMemoryLimit(paths);
  if (limit !== undefined) return { bytes: limit.bytes, source: 'cgroup', file: limit.file };
  return { bytes: totalmem(), source: 'total' };
}

export interface Limits {
  hard: number;
  soft: number;
}

export const MIB = 1024 * 1024;

/**
 * Hard and soft limits in bytes from the config, as the collector computes them: limit_mib as
 * given, limit_percentage of `available` (the container's limit less what the measure reserves).
 */
export function computeLimits(cfg: { limit_mib: number; spike_limit_mib: number; limit_percentage: number; spike_limit_percentage: number }, available: number): Limits {
  if (cfg.limit_mib > 0) {
    const hard = cfg.limit_mib * MIB;
    const spike = cfg.spike_limit_mib > 0 ? cfg.spike_limit_mib * MIB : hard / 5;
    return { hard, soft: hard - spike };
  }
  const hard = (available * cfg.limit_percentage) / 100;
  const spike = cfg.spike_limit_percentage > 0 ? (available * cfg.spike_limit_percentage) / 100 : hard / 5;
  return { hard, soft: hard - spike };
}

/** What the limiter compares with its limits, and its name for the logs. */
export interface MemoryMeasure {
  name: 'private' | 'rss';
  /**
   * Memory the container's limit counts that this measure leaves out: the file-backed pages the
   * process had resident when the limiter was built (the node binary, its libraries), bytes.
   * limit_percentage applies to the container's limit less this.
   */
  reserved: number;
  read(): number;
}

/**
 * The process's private resident memory (RssAnon + RssShmem): what the sidecar itself holds and
 * only it can free. RSS would also count the node binary's file-backed pages (~50 MiB), which stay
 * at that size whatever the load: compared with RSS, a 192 MiB container's soft limit refused data
 * while the sidecar held ~65 MiB of its own, and went on refusing after a burst was delivered.
 * Those pages still count against the container's limit when its cgroup is charged for them (when
 * the pod first read them from disk), and without them resident the process thrashes, so they are
 * reserved from the limit (MemoryMeasure.reserved) instead of measured.
 * Nor is the cgroup's own usage measured: the limiting cgroup may be the pod's, or a container's
 * shared with the app, and the app's memory would then make the sidecar refuse for good.
 * Where /proc/self/status has no such split (not Linux, a kernel before 4.5), RSS, with nothing
 * reserved. A read that fails later (a process out of file descriptors) keeps the last figure.
 */
export function privateMemoryMeasure(read: () => ResidentMemory | undefined = () => residentMemory('self')): MemoryMeasure {
  const first = read();
  if (first === undefined) return { name: 'rss', reserved: 0, read: () => process.memoryUsage.rss() };
  let last = first.private;
  return { name: 'private', reserved: first.file, read: () => (last = read()?.private ?? last) };
}

let gc: (() => void) | undefined;

/**
 * A full, synchronous garbage collection (6-13 ms for this sidecar's heap), as the collector's
 * memory_limiter forces one. Under load V8 collects often; after a burst it may not collect for
 * minutes, and until it does, the ArrayBuffers of requests already delivered hold their memory.
 * Node gives no way to force one without --expose-gc, a flag that would cost every start the
 * code cache of node's own modules; it is turned on here when first needed (V8 reads it when a
 * context is made), by which time the sidecar has loaded what it runs. Check forcedGcUnavailable
 * first: with frozen flags, setting one aborts the process.
 */
export function collectGarbage(): void {
  if (gc === undefined) {
    const exposed = (globalThis as { gc?: unknown }).gc;
    if (typeof exposed === 'function') {
      gc = exposed as () => void;
    } else {
      setFlagsFromString('--expose-gc');
      // node:vm only here: no other part of the sidecar loads it, and every start would compile it.
      gc = process.getBuiltinModule('node:vm').runInNewContext('gc') as () => void;
    }
  }
  gc();
}

/**
 * Why collectGarbage cannot run in this process, or undefined when it can: with V8's flags frozen
 * (--freeze-flags-after-init on the command line, the last of it and its --no- form winning;
 * node refuses it in NODE_OPTIONS), setting one aborts the process.
 */
export function forcedGcUnavailable(execArgv: readonly string[] = process.execArgv): string | undefined {
  let frozen = false;
  for (const arg of execArgv) {
    const m = /^--(no-)?freeze[-_]flags[-_]after[-_]init$/.exec(arg);
    if (m) frozen = m[1] === undefined;
  }
  return frozen ? 'V8 flags are frozen (--freeze-flags-after-init), so --expose-gc cannot be turned on' : undefined;
}
