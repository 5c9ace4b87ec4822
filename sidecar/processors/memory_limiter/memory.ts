// Memory figures for the limiter. The limit that matters in a pod is the container's cgroup limit
// (the OOM killer enforces it), not the node's total: runtime/cgroup.ts reads it (cgroup v2
// memory.max or v1 memory.limit_in_bytes, on the process's own cgroup and its ancestors).
import { totalmem } from 'node:os';
import { containerMemoryLimit, DEFAULT_CGROUP_PATHS, parseCgroupLimit, type CgroupPaths } from '../../runtime/cgroup.ts';

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
