// The bench starts the sidecar with the environment a pod gives it (bench/image-env.ts): the
// image's ENV lines plus what the bench sets, never the developer's own NODE_* or OTEL_* settings.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchSidecarEnv, imageEnv } from '../../bench/image-env.ts';
import { sidecarSettings } from '../../injector/config.ts';
import { sidecarEnv } from '../../injector/sidecar-container.ts';
import { heapCapRelaunchArgs } from '../../sidecar/runtime/heap.ts';
import { testConfig } from '../injector/support.ts';
import { ROOT } from '../support/process.ts';

const dockerfile = [
  'FROM node:24-bookworm-slim AS build',
  'ENV BUILD_ONLY=1',
  'FROM node:24-bookworm-slim AS runtime',
  'ENV NODE_ENV=production',
  'ENV NODE_COMPILE_CACHE=/app/compile-cache A_B="two words"',
  'ENTRYPOINT ["node", "/app/dist/sidecar/main.js"]',
  '',
].join('\n');

describe('bench: the environment a pod gives the sidecar (bench/image-env.ts)', () => {
  const host = {
    PATH: '/usr/bin:/bin',
    HOME: '/root',
    // This machine sets it: every Node process then parses the system CA bundle at start
    // (~40 ms, and memory), which no pod does.
    NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt',
    NODE_OPTIONS: '--inspect',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://elsewhere:4318',
    TRACEBRIDGE_PORTS: 'health=1',
    AWS_REGION: 'eu-west-1',
  };

  it("keeps the final stage's ENV and PATH/HOME, drops the rest of the host's environment", () => {
    const env = imageEnv(dockerfile, host, {});
    assert.deepEqual(env, { PATH: '/usr/bin:/bin', HOME: '/root', NODE_ENV: 'production', NODE_COMPILE_CACHE: '/app/compile-cache', A_B: 'two words' });
  });

  it('what the bench sets wins over the image', () => {
    const env = imageEnv(dockerfile, host, { NODE_COMPILE_CACHE: '/tmp/cache', TRACEBRIDGE_PORTS: 'health=2' });
    assert.equal(env.NODE_COMPILE_CACHE, '/tmp/cache');
    assert.equal(env.TRACEBRIDGE_PORTS, 'health=2');
    assert.equal(env.NODE_EXTRA_CA_CERTS, undefined);
  });

  it("agrees with this checkout's Dockerfile", () => {
    const env = imageEnv(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'), host, {});
    assert.equal(env.NODE_ENV, 'production');
    assert.equal(env.NODE_OPTIONS, undefined);
    assert.equal(env.NODE_EXTRA_CA_CERTS, undefined);
  });

  // TB_BENCH_MEMORY_LIMIT_MIB runs the sidecar in a memory cgroup, as an injected pod: with the
  // NODE_OPTIONS the injector sets for that limit, so it starts without re-executing itself.
  const injectedNodeOptions = (mib: number) =>
    sidecarEnv(sidecarSettings(testConfig({ sidecar: { resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: `${mib}Mi` } } } }))).find((e) => e.name === 'NODE_OPTIONS')?.value;

  for (const mib of [192, 320]) {
    it(`under a ${mib} MiB limit, the sidecar gets the NODE_OPTIONS the injector gives a sidecar limited to ${mib}Mi`, () => {
      const expected = injectedNodeOptions(mib);
      assert.ok(expected !== undefined, 'the injector sets NODE_OPTIONS for a limit');
      const env = benchSidecarEnv(dockerfile, host, { TRACEBRIDGE_PORTS: 'health=2' }, { limitMiB: mib });
      assert.equal(env.NODE_OPTIONS, expected, 'not the host\'s --inspect either');
      assert.equal(env.TRACEBRIDGE_PORTS, 'health=2');
      assert.equal(env.NODE_ENV, 'production');
      assert.equal(env.NODE_COMPILE_CACHE, undefined, 'the bench makes its own compile cache');
      assert.deepEqual(heapCapRelaunchArgs(mib * 1024 * 1024, [], env.NODE_OPTIONS, 4096 * 1024 * 1024), undefined, 'the sidecar then does not re-execute');
      assert.deepEqual(heapCapRelaunchArgs(mib * 1024 * 1024, [], undefined, 4096 * 1024 * 1024), [`--max-old-space-size=${mib / 2}`], 'without it, it would');
    });
  }

  it('no NODE_OPTIONS without a limit, for a limit set other than by the injector, or for the compile-cache warm-up', () => {
    assert.equal(benchSidecarEnv(dockerfile, host, {}).NODE_OPTIONS, undefined);
    assert.equal(benchSidecarEnv(dockerfile, host, {}, { limitMiB: 0 }).NODE_OPTIONS, undefined);
    assert.equal(benchSidecarEnv(dockerfile, host, {}, { limitMiB: 320, injected: false }).NODE_OPTIONS, undefined);
  });
});
