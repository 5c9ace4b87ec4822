import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerMemoryLimit } from '../../../sidecar/runtime/cgroup.ts';
import { heapCapMiB, heapCapRelaunchArgs } from '../../../sidecar/runtime/heap.ts';
import { createMemoryCgroup, spawnNode } from '../../support/cgroup.ts';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** A fake cgroup mount: files relative to the root, plus /proc/self/cgroup's content. */
function fakeCgroup(files: Record<string, string>, membership: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tb-cgroup-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, 'fs', rel, '..'), { recursive: true });
    writeFileSync(join(dir, 'fs', rel), text);
  }
  writeFileSync(join(dir, 'cgroup'), membership);
  return { root: join(dir, 'fs'), procSelfCgroup: join(dir, 'cgroup') };
}

describe('container memory limit (cgroup)', function () {
  this.timeout(30_000);

  it('cgroup v2: reads memory.max of the process own cgroup, not only the mount root', () => {
    const paths = fakeCgroup({ 'memory.max': 'max\n', 'kubepods/pod1/c1/memory.max': '201326592\n' }, '0::/kubepods/pod1/c1\n');
    assert.deepEqual(containerMemoryLimit(paths, 16 * GIB), { bytes: 192 * MIB, file: join(paths.root, 'kubepods/pod1/c1/memory.max') });
  });

  it('cgroup v2: an ancestor limit applies when the container cgroup says "max"', () => {
    const paths = fakeCgroup({ 'kubepods/pod1/memory.max': '268435456\n', 'kubepods/pod1/c1/memory.max': 'max\n' }, '0::/kubepods/pod1/c1\n');
    assert.equal(containerMemoryLimit(paths, 16 * GIB)?.bytes, 256 * MIB);
  });

  it('cgroup v1: reads memory.limit_in_bytes of the memory hierarchy; ~2^63 means no limit', () => {
    const membership = '9:name=systemd:/x\n4:memory:/kubepods/pod1/c1\n3:cpu,cpuacct:/kubepods/pod1/c1\n0::/\n';
    const paths = fakeCgroup({ 'memory/memory.limit_in_bytes': '9223372036854771712\n', 'memory/kubepods/pod1/c1/memory.limit_in_bytes': '201326592\n' }, membership);
    assert.equal(containerMemoryLimit(paths, 16 * GIB)?.bytes, 192 * MIB);
  });

  it('inside a cgroup namespace (path not under the mount): the mount root is the container limit', () => {
    const paths = fakeCgroup({ 'memory/memory.limit_in_bytes': '201326592\n' }, '4:memory:/kubepods/pod1/c1\n');
    assert.equal(containerMemoryLimit(paths, 16 * GIB)?.bytes, 192 * MIB);
  });

  it('no limit: "max", a limit above the machine memory, garbage or no files', () => {
    assert.equal(containerMemoryLimit(fakeCgroup({ 'memory.max': 'max\n' }, '0::/\n'), 16 * GIB), undefined);
    assert.equal(containerMemoryLimit(fakeCgroup({ 'memory.max': String(32 * GIB) }, '0::/\n'), 16 * GIB), undefined);
    assert.equal(containerMemoryLimit(fakeCgroup({ 'memory.max': 'lots' }, 'garbage'), 16 * GIB), undefined);
    assert.equal(containerMemoryLimit({ root: '/nonexistent', procSelfCgroup: '/nonexistent' }, 16 * GIB), undefined);
  });

  it('heap cap: half the container limit, an explicit --max-old-space-size wins, no limit no cap', () => {
    assert.equal(heapCapMiB(192 * MIB), 96);
    assert.equal(heapCapMiB(40 * MIB), 32);
    assert.deepEqual(heapCapRelaunchArgs(192 * MIB, ['--enable-source-maps'], undefined, 259 * MIB), ['--max-old-space-size=96', '--enable-source-maps']);
    assert.equal(heapCapRelaunchArgs(192 * MIB, ['--max-old-space-size=150'], undefined, 259 * MIB), undefined);
    assert.equal(heapCapRelaunchArgs(192 * MIB, [], '--max-old-space-size=150', 259 * MIB), undefined);
    assert.equal(heapCapRelaunchArgs(undefined, [], undefined, 4 * GIB), undefined);
    assert.equal(heapCapRelaunchArgs(4 * GIB, [], undefined, 1 * GIB), undefined);
  });

  describe('in a real memory cgroup of 192 MiB', () => {
    it('the memory_limiter sizes its limits from it, and the sidecar caps its V8 heap (same PID) before starting', async function () {
      const cg = createMemoryCgroup('tb-limit', 192 * MIB);
      if (typeof cg === 'string') {
        process.stdout.write(`      skipped: ${cg}\n`);
        this.skip();
        return;
      }
      const dir = mkdtempSync(join(tmpdir(), 'tb-cg-'));
      const cfg = join(dir, 'c.yaml');
      writeFileSync(
        cfg,
        [
          'receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }',
          'processors: { memory_limiter: { check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 20 } }',
          'exporters: { debug: {} }',
          'service: { pipelines: { traces: { receivers: [otlp], processors: [memory_limiter], exporters: [debug] } }, telemetry: { metrics: { level: none } } }',
          '',
        ].join('\n'),
      );
      const child = spawnNode(cg, ['sidecar/main.ts', '--config', cfg]);
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      child.stdout!.on('data', (c: Buffer) => (err += c.toString()));
      try {
        const deadline = Date.now() + 15_000;
        while (!/memory limiter started/.test(err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const line = /.*memory limiter started.*/.exec(err)?.[0];
        assert.ok(line, `no start line:\n${err}`);
        const log = JSON.parse(line) as { hard_limit_mib: number; soft_limit_mib: number; heap_limit_mib: number; container_limit_mib: number; container_limit_from: string; reserved_file_backed_mib: number; measures: string };
        // The container limit, not the machine's memory, less the file-backed pages the measure
        // (private memory) leaves out: 80% and 60% of what remains.
        assert.equal(log.container_limit_mib, 192);
        assert.equal(log.container_limit_from, join(cg.dir, cg.version === 2 ? 'memory.max' : 'memory.limit_in_bytes'));
        assert.equal(log.measures, 'private');
        assert.ok(log.reserved_file_backed_mib > 30 && log.reserved_file_backed_mib < 90, `reserved ${log.reserved_file_backed_mib} MiB`);
        const rest = 192 - log.reserved_file_backed_mib;
        assert.ok(Math.abs(log.hard_limit_mib - 0.8 * rest) <= 0.2, `hard ${log.hard_limit_mib} MiB of ${rest}`);
        assert.ok(Math.abs(log.soft_limit_mib - 0.6 * rest) <= 0.2, `soft ${log.soft_limit_mib} MiB of ${rest}`);
        // V8's own default here is ~259 MiB, over the container limit.
        assert.ok(log.heap_limit_mib < 192 * 0.75, `heap limit ${log.heap_limit_mib} MiB`);
        const { readFileSync } = await import('node:fs');
        const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
        assert.ok(cmdline.includes('--max-old-space-size=96'), cmdline.join(' '));
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
        cg.remove();
      }
    });
  });
});
