// A memory cgroup for one child process, as the kubelet gives a container: cgroup v2 (memory.max)
// or v1 (memory.limit_in_bytes), whichever is mounted and writable (root), with swap accounting
// turned off where the kernel has it. The child is started through sh, which joins the cgroup
// before exec'ing the command, so the process is limited from its first instruction. The bench
// runs the sidecar in one under TB_BENCH_MEMORY_LIMIT_MIB; the memory tests (test/support/cgroup.ts)
// run theirs in one too.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MemoryCgroup {
  version: 1 | 2;
  dir: string;
  /** Starts `argv` inside the cgroup. */
  spawn(argv: string[], options: SpawnOptions): ChildProcess;
  /** Current usage, bytes (v1 memory.usage_in_bytes; v2 memory.current): what the limit is enforced on. */
  usage(): number;
  /** OOM kills in the cgroup so far. */
  oomKills(): number;
  /** Peak memory usage, bytes (v1 max_usage_in_bytes; v2 memory.peak when the kernel has it). */
  peak(): number | undefined;
  /** Removes the cgroup once its processes have left (waits up to 5 s for them). */
  remove(): void;
}

/** Creates a memory cgroup limited to `limitBytes`, named `<name>-<pid>`, or returns why it cannot. */
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
    spawn: (argv, options) => spawn('/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, ...argv], options),
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
