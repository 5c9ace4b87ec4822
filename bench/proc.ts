// Process figures read from /proc: CPU seconds (utime + stime) and resident memory, split into
// file-backed and private pages.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** User and system CPU seconds of a process (proc(5): utime is field 14, stime 15). */
export function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command name start at field 3 (state).
  return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK };
}

export function cpuSeconds(pid: number): number {
  const t = cpuTimes(pid);
  return t.user + t.system;
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * Resident memory from /proc/PID/status, split by what backs it:
 * - file: RssFile, pages of mapped files (the node binary, shared libraries). They sit in the page
 *   cache once per node for every pod that runs the same image, so a second pod adds next to none;
 * - private: RssAnon + RssShmem, the process's own memory (V8 heap, code space, malloc, stacks,
 *   copied-on-write pages; shmem is anonymous shared memory, no other pod maps it). Every pod pays
 *   this in full: it is what one more pod costs on a node.
 * The split depends on this process alone. smaps_rollup's Private_/Shared_ counters depend instead
 * on which other processes map the same file at that instant (the bench's own node would make the
 * sidecar's binary pages "shared"), which makes them noisy.
 */
export interface RssSplit {
  total: number;
  file: number;
  private: number;
}

export function rssSplit(pid: number): RssSplit {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kB = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { total: kB('VmRSS'), file: kB('RssFile'), private: kB('RssAnon') + kB('RssShmem') };
}

/** Pins every thread of a process to one CPU (threads created later inherit it). */
export function pin(pid: number, cpu: number): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
  } catch {
    // taskset missing: figures are still valid, only noisier.
  }
}
