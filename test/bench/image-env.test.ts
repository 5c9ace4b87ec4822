// The bench starts the sidecar with the environment a pod gives it (bench/image-env.ts): the
// image's ENV lines plus what the bench sets, never the developer's own NODE_* or OTEL_* settings.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageEnv, injectedLimitEnv } from '../../bench/image-env.ts';
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
  for (const mib of [192, 320]) {
    it(`under a ${mib} MiB limit, the NODE_OPTIONS the injector gives a sidecar limited to ${mib}Mi`, () => {
      const injected = sidecarEnv(sidecarSettings(testConfig({ sidecar: { resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: `${mib}Mi` } } } })));
      const nodeOptions = injected.find((e) => e.name === 'NODE_OPTIONS')?.value;
      assert.ok(nodeOptions !== undefined, 'the injector sets NODE_OPTIONS for a limit');
      assert.deepEqual(injectedLimitEnv(mib), { NODE_OPTIONS: nodeOptions });
      assert.equal(heapCapRelaunchArgs(mib * 1024 * 1024, [], injectedLimitEnv(mib).NODE_OPTIONS, 4096 * 1024 * 1024), undefined, 'the sidecar then does not re-execute');
    });
  }
});
