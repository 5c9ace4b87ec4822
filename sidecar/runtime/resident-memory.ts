// Resident memory of a process from /proc/PID/status (Linux 4.5 and later), split by what backs it:
// - file: RssFile, pages of mapped files (the node binary, shared libraries). One copy sits in the
//   page cache for every pod on a node that runs the same image, and the kernel can drop them and
//   read them again before its OOM killer acts;
// - private: RssAnon + RssShmem, the process's own memory (V8 heap, ArrayBuffers holding spans,
//   malloc, stacks, copied-on-write pages; shmem is anonymous shared memory no other pod maps).
//   Without swap, as on Kubernetes nodes, nothing can free it but the process itself.
// The split depends on this process alone. smaps_rollup's Private_/Shared_ counters depend instead
// on which other processes map the same file at that instant, which makes them noisy.
import { readFileSync } from 'node:fs';

export interface ResidentMemory {
  /** VmRSS, bytes. */
  total: number;
  /** RssFile, bytes. */
  file: number;
  /** RssAnon + RssShmem, bytes. */
  private: number;
}

// Compiled once: memory_limiter measures on its request path (after every few MiB passed on).
const FIELDS = { VmRSS: /^VmRSS:\s+(\d+) kB/m, RssFile: /^RssFile:\s+(\d+) kB/m, RssAnon: /^RssAnon:\s+(\d+) kB/m, RssShmem: /^RssShmem:\s+(\d+) kB/m };

/** The split from the text of a /proc/PID/status file; undefined when a field is missing (kernel before 4.5). */
export function parseResidentMemory(status: string): ResidentMemory | undefined {
  const kib = (field: keyof typeof FIELDS) => {
    const m = FIELDS[field].exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kib('VmRSS');
  const file = kib('RssFile');
  const anon = kib('RssAnon');
  const shmem = kib('RssShmem');
  if (total === undefined || file === undefined || anon === undefined || shmem === undefined) return undefined;
  return { total, file, private: anon + shmem };
}

/** The split for process `pid` ('self': this one); undefined where /proc does not give it (not Linux, old kernel, gone). */
export function residentMemory(pid: number | 'self'): ResidentMemory | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  return parseResidentMemory(status);
}
