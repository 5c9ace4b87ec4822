// The container's memory limit, read from the cgroup filesystem. The OOM killer enforces the
// tightest limit on the process's cgroup and its ancestors, so every level is read and the
// smallest limit wins:
//   cgroup v2 (EKS, recent distributions): <root>/<path>/memory.max, "max" when unlimited;
//   cgroup v1: <root>/memory/<path>/memory.limit_in_bytes, ~2^63 when unlimited.
// <path> comes from /proc/self/cgroup. Inside a container with its own cgroup namespace (or a
// bind-mounted v1 hierarchy) the path is "/" or does not exist under the mount; the mount's root is
// then the container's own cgroup, which is read too. A limit at or above the machine's memory
// limits nothing and counts as no limit.
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';

export interface CgroupPaths {
  /** Where the cgroup filesystem is mounted. */
  root: string;
  /** The process's cgroup membership file. */
  procSelfCgroup: string;
}

export const DEFAULT_CGROUP_PATHS: CgroupPaths = { root: '/sys/fs/cgroup', procSelfCgroup: '/proc/self/cgroup' };

export interface MemoryLimit {
  bytes: number;
  /** The file the limit was read from. */
  file: string;
}

/** Parses a cgroup limit file's content; undefined when unlimited ("max", v1's ~2^63, ≥ machine memory) or malformed. */
export function parseCgroupLimit(text: string, machineTotal: number): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n > 0 && n < machineTotal ? n : undefined;
}

/** The limit files to read, most specific first: each level from the process's cgroup up to the mount's root. */
export function limitFiles(procSelfCgroup: string, root: string): string[] {
  const files: string[] = [];
  const add = (base: string, rel: string, name: string) => {
    const parts = rel.split('/').filter((p) => p !== '' && p !== '.' && p !== '..');
    for (let i = parts.length; i >= 0; i--) files.push(join(base, ...parts.slice(0, i), name));
  };
  for (const line of procSelfCgroup.split('\n')) {
    // hierarchy-ID:controller-list:cgroup-path
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (m === null) continue;
    const [, id, controllers, path] = m as unknown as [string, string, string, string];
    if (id === '0' && controllers === '') add(root, path, 'memory.max');
    else if (controllers.split(',').includes('memory')) add(join(root, 'memory'), path, 'memory.limit_in_bytes');
  }
  // The mount roots, in case /proc/self/cgroup was unreadable.
  for (const f of [join(root, 'memory.max'), join(root, 'memory', 'memory.limit_in_bytes')]) if (!files.includes(f)) files.push(f);
  return files;
}

/** The tightest memory limit on this process, or undefined when none is set (or no cgroup is readable). */
export function containerMemoryLimit(paths: CgroupPaths = DEFAULT_CGROUP_PATHS, machineTotal = totalmem()): MemoryLimit | undefined {
  let membership = '';
  try {
    membership = readFileSync(paths.procSelfCgroup, 'utf8');
  } catch {
    // Not Linux, or /proc not mounted: only the mount roots are tried.
  }
  let best: MemoryLimit | undefined;
  for (const file of limitFiles(membership, paths.root)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const bytes = parseCgroupLimit(text, machineTotal);
    if (bytes !== undefined && (best === undefined || bytes < best.bytes)) best = { bytes, file };
  }
  return best;
}
