// The injector caps the sidecar's V8 heap itself, from the memory limit it injects: NODE_OPTIONS
// carries --max-old-space-size (half the limit, as the sidecar's runtime/heap.ts computes it), so
// the sidecar never re-executes itself at start in an injected pod (the re-execution stays the
// fallback for a limit set any other way).
import assert from 'node:assert/strict';
import { sidecarEnv } from '../../injector/sidecar-container.ts';
import { sidecarSettings } from '../../injector/config.ts';
import { heapCapMiB, heapCapRelaunchArgs } from '../../sidecar/runtime/heap.ts';
import { testConfig } from './support.ts';

const MIB = 1024 * 1024;
const envOf = (overrides: Record<string, unknown>) => new Map(sidecarEnv(sidecarSettings(testConfig(overrides))).map((e) => [e.name, e.value]));
const withLimit = (memory: string | undefined) => ({ sidecar: { resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: memory === undefined ? {} : { memory } } } });

describe('injector: the sidecar heap cap in NODE_OPTIONS', () => {
  it('the shipped default limit (320Mi) gives --max-old-space-size=160, and the sidecar then does not re-execute', () => {
    const env = new Map(sidecarEnv(sidecarSettings(testConfig())).map((e) => [e.name, e.value]));
    assert.equal(env.get('NODE_OPTIONS'), `--max-old-space-size=${heapCapMiB(320 * MIB)}`);
    assert.equal(env.get('NODE_OPTIONS'), '--max-old-space-size=160');
    // What the sidecar decides in a 320Mi cgroup with that env: no re-execution.
    assert.equal(heapCapRelaunchArgs(320 * MIB, [], env.get('NODE_OPTIONS'), 4096 * MIB), undefined);
    assert.deepEqual(heapCapRelaunchArgs(320 * MIB, [], undefined, 4096 * MIB), ['--max-old-space-size=160'], 'without it, it would');
  });

  for (const [memory, mib] of [
    ['512Mi', 256],
    ['1Gi', 512],
    ['500M', 238],
    ['1e9', 476],
    ['64Mi', 32],
    ['32Mi', 32],
  ] as const) {
    it(`a limit of ${memory} gives --max-old-space-size=${mib}`, () => {
      assert.equal(envOf(withLimit(memory)).get('NODE_OPTIONS'), `--max-old-space-size=${mib}`);
    });
  }

  it('no memory limit: no NODE_OPTIONS (V8 sizes its heap itself)', () => {
    assert.equal(envOf(withLimit(undefined)).has('NODE_OPTIONS'), false);
  });

  it("the operator's own NODE_OPTIONS (sidecar.env) replaces ours, and the sidecar's fallback then applies", () => {
    const env = envOf({ ...withLimit('512Mi'), sidecar: { ...withLimit('512Mi').sidecar, env: { NODE_OPTIONS: '--max-old-space-size=300' } } });
    assert.equal(env.get('NODE_OPTIONS'), '--max-old-space-size=300');
    assert.equal([...sidecarEnv(sidecarSettings(testConfig({ sidecar: { env: { NODE_OPTIONS: '--trace-warnings' } } })))].filter((e) => e.name === 'NODE_OPTIONS').length, 1, 'never duplicated');
  });
});
