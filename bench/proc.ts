// Process figures read from /proc: CPU seconds (utime + stime) and resident memory, split into
// file-backed and private pages.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { residentMemory, type ResidentMemory } from '../sidecar/runtime/resident-memory.ts';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** Field `n` (numbered from 1, as proc(5) does) of /proc/PID/stat. */
function statField(pid: number, n: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: fields after it start at 3 (state).
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[n - 3]);
}

/** User and system CPU seconds of a process (proc(5): utime is field 14, stime 15). */
export function cpuTimes(pid: number): { user: number; system: number } {
  return { user: statField(pid, 14) / CLK_TCK, system: statField(pid, 15) / CLK_TCK };
}

/** Major page faults of a process so far (proc(5): majflt, field 12): pages read back from disk, which a process short of memory does by the thousand. */
export function majorFaults(pid: number): number {
  return statField(pid, 12);
}

export function cpuSeconds(pid: number): number {
  const t = cpuTimes(pid);
  return t.user + t.system;
}

/** Resident memory of a process, split into file-backed and private pages as sidecar/runtime/resident-memory.ts says. */
export function rssSplit(pid: number): ResidentMemory {
  const split = residentMemory(pid);
  if (split === undefined) throw new Error(`no resident memory figures for process ${pid}: it has exited, or /proc/${pid}/status lacks RssAnon/RssFile`);
  return split;
}

/** Pins every thread of a process to one CPU (threads created later inherit it). */
export function pin(pid: number, cpu: number): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
  } catch {
    // taskset missing: figures are still valid, only noisier.
  }
}
