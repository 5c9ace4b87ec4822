// Memory figures for the limiter. The limit that matters in a pod is the container's cgroup limit
// (the OOM killer enforces it), not the node's total; cgroup v2 exposes it in memory.max ("max"
// when unlimited), cgroup v1 in memory.limit_in_bytes (a huge number when unlimited).
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

const CGROUP_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];

/** Parses a cgroup limit file's content; undefined when unlimited or unreadable. */
export function parseCgroupLimit(text: string, machineTotal: number): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  // cgroup v1 writes ~2^63 for "no limit"; a limit above physical memory limits nothing.
  return n > 0 && n < machineTotal ? n : undefined;
}

export interface AvailableMemory {
  bytes: number;
  source: 'cgroup' | 'total';
}

/** The memory the process may use: the cgroup limit, else the machine's total memory. */
export function availableMemory(files: readonly string[] = CGROUP_FILES): AvailableMemory {
  const total = totalmem();
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    const limit = parseCgroupLimit(text, total);
    if (limit !== undefined) return { bytes: limit, source: 'cgroup' };
  }
  return { bytes: total, source: 'total' };
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
