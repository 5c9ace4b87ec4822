// A memory cgroup for one child process, as the kubelet gives a container: cgroup v2 (memory.max)
// or v1 (memory.limit_in_bytes), whichever is mounted and writable (root). The child is started
// through sh, which joins the cgroup before exec'ing node, so the process is limited from its
// first instruction.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './process.ts';

export interface MemoryCgroup {
  version: 1 | 2;
  dir: string;
  /** Starts `node args...` inside the cgroup; `node` is this process's node unless given. */
  spawnNode(args: string[], env?: Record<string, string | undefined>, node?: string): ChildProcess;
  /** Current usage, bytes (v1 memory.usage_in_bytes; v2 memory.current): what the limit is enforced on. */
  usage(): number;
  /** OOM kills in the cgroup so far. */
  oomKills(): number;
  /** Peak memory usage, bytes (v1 max_usage_in_bytes; v2 memory.peak when the kernel has it). */
  peak(): number | undefined;
  remove(): void;
}

/** Creates a memory cgroup limited to `limitBytes`, or returns why it cannot. */
export function createMemoryCgroup(name: string, limitBytes: number): MemoryCgroup | string {
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const base = v2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/memory';
  if (!v2 && !existsSync(join(base, 'memory.limit_in_bytes'))) return 'no cgroup v1 memory controller or cgroup v2 mounted at /sys/fs/cgroup';
  const dir = join(base, `${name}-${process.pid}`);
  try {
    mkdirSync(dir);
    writeFileSync(join(dir, v2 ? 'memory.max' : 'memory.limit_in_bytes'), String(limitBytes));
    if (v2) {
      try {
        writeFileSync(join(dir, 'memory.swap.max'), '0');
      } catch {
        // no swap accounting: nothing to turn off
      }
    } else {
      try {
        writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), String(limitBytes));
      } catch {
        // no swap accounting
      }
    }
  } catch (err) {
    try {
      rmdirSync(dir);
    } catch {
      // not created
    }
    return `cannot create a memory cgroup under ${base} (root and a writable cgroup filesystem needed): ${(err as Error).message}`;
  }
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const field = (text: string, key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  return {
    version: v2 ? 2 : 1,
    dir,
    spawnNode(args, env = {}, node = process.execPath) {
      return spawn('/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, node, ...args], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    },
    usage: () => Number(read(v2 ? 'memory.current' : 'memory.usage_in_bytes')),
    oomKills: () => (v2 ? field(read('memory.events'), 'oom_kill') : field(read('memory.oom_control'), 'oom_kill')),
    peak() {
      try {
        return Number(read(v2 ? 'memory.peak' : 'memory.max_usage_in_bytes'));
      } catch {
        return undefined;
      }
    },
    remove() {
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(dir);
          return;
        } catch {
          // processes still leaving
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
        }
      }
    },
  };
}

/**
 * A copy of this process's node binary whose pages are in no page cache, so that the first process
 * to run it is charged for them: as a pod is when its node had evicted the image's binary from the
 * page cache, whose container's cgroup then holds the binary's pages beside the process's memory.
 */
export function uncachedNodeCopy(dir: string): string {
  const copy = join(dir, 'node');
  copyFileSync(process.execPath, copy);
  chmodSync(copy, 0o755);
  // GNU dd: with count=0 and iflag=nocache, drops the file's cached pages (coreutils manual).
  execFileSync('dd', [`if=${copy}`, 'iflag=nocache', 'count=0'], { stdio: 'ignore' });
  return copy;
}
