// Process figures read from /proc: CPU seconds (utime + stime) and resident memory, split into
// file-backed and private pages.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { residentMemory, type ResidentMemory } from '../sidecar/runtime/resident-memory.ts';

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
