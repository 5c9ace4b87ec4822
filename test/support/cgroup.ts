// Memory cgroups for the memory tests (bench/cgroup.ts makes them, for the bench too), node started
// inside one, and a node binary whose pages the cgroup is charged for.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MemoryCgroup } from '../../bench/cgroup.ts';
import { ROOT } from './process.ts';

export { createMemoryCgroup, type MemoryCgroup } from '../../bench/cgroup.ts';

/** Starts `node args...` inside the cgroup, from the repository's root; `node` is this process's node unless given. */
export function spawnNode(cg: MemoryCgroup, args: string[], env: Record<string, string | undefined> = {}, node = process.execPath): ChildProcess {
  return cg.spawn([node, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
