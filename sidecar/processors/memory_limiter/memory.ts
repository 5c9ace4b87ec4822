// Memory figures for the limiter. The limit that matters in a pod is the container's cgroup limit
// (the OOM killer enforces it), not the node's total: runtime/cgroup.ts reads it (cgroup v2
// memory.max or v1 memory.limit_in_bytes, on the process's own cgroup and its ancestors).
import { totalmem } from 'node:os';
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

const MIB = 1024 * 1024;

/** Hard and soft limits in bytes from the config, as the collector computes them. */
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

/** What the limiter compares with its limits, and its name for the start log. */
export interface MemoryMeasure {
  name: 'private' | 'rss';
  read(): number;
}

/**
 * The process's private resident memory (RssAnon + RssShmem): what the sidecar itself holds and
 * only it can free. Its RSS would also count the node binary's file-backed pages (~50 MiB), which
 * every pod of the image on a node shares and the kernel reclaims before it OOM-kills: compared
 * with RSS, a 192 MiB container's 115 MiB soft limit refused data while the sidecar held ~65 MiB.
 * Nor is the cgroup's own usage measured: the limiting cgroup may be the pod's, or a container's
 * shared with the app, and the app's memory would then make the sidecar refuse for good.
 * Where /proc/self/status has no such split (not Linux, kernel before 4.5), RSS.
 */
export function privateMemoryMeasure(read: () => ResidentMemory | undefined = () => residentMemory('self')): MemoryMeasure {
  if (read() === undefined) return { name: 'rss', read: () => process.memoryUsage.rss() };
  return { name: 'private', read: () => read()?.private ?? process.memoryUsage.rss() };
}
