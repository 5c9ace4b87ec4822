import assert from 'node:assert/strict';
import fc from 'fast-check';
import jsonpatch from 'fast-json-patch';
import { sidecarSettings } from '../../injector/config.ts';
import { decide, decisionPolicy } from '../../injector/decision.ts';
import { noProxyList, setBridgeEnv, type HeaderBridgeStatus } from '../../injector/header-bridge.ts';
import { diff } from '../../injector/json-patch.ts';
import { chooseMode } from '../../injector/mode.ts';
import { injectSidecar, type InjectionStatus } from '../../injector/mutation.ts';
import type { Container, EnvVar, Pod } from '../../injector/pod.ts';
import { bridgeFixtures } from './fixtures/header-bridge-pods.ts';
import { ns } from './fixtures/pods.ts';
import { assertValidPod, testConfig } from './support.ts';

const EXPECTED_NO_PROXY =
  '127.0.0.1,localhost,::1,$(TRACEBRIDGE_POD_IP),kubernetes,kubernetes.default,kubernetes.default.svc,kubernetes.default.svc.cluster.local,' +
  '$(KUBERNETES_SERVICE_HOST),169.254.169.254,169.254.170.2,169.254.170.23,fd00:ec2::254,fd00:ec2::23';

const envMap = (c: Container) => new Map((c.env ?? []).map((e) => [e.name, e]));

describe('injector header bridge over pod fixtures', () => {
  for (const fx of bridgeFixtures) {
    it(fx.name, () => {
      const cfg = testConfig(fx.config);
      const namespace = fx.ns ?? ns('shop');
      const decision = decide(fx.pod, namespace, decisionPolicy(cfg));
      if (fx.expect.notInjected !== undefined) {
        assert.equal(decision.inject, false);
        assert.equal(decision.reason, fx.expect.notInjected, decision.message);
        if (fx.expect.notInjected === 'port-conflict') assert.match(decision.message, /TCP port 13128 \(tb-bridge\)/);
        return;
      }
      assert.equal(decision.inject, true, decision.message);
      const original = structuredClone(fx.pod);
      const mode = chooseMode(cfg.sidecar.native, { unknown: 'test' });
      const { pod: mutated } = injectSidecar(fx.pod, { settings: sidecarSettings(cfg), mode, decision, version: '0.1.0' });
      assert.deepEqual(fx.pod, original, 'the input pod is not modified');

      // The webhook's patch, applied by an independent implementation, yields a schema-valid pod.
      const patch = diff(fx.pod, mutated);
      const patched = jsonpatch.applyPatch(structuredClone(fx.pod), patch as jsonpatch.Operation[], true, false).newDocument;
      assert.deepEqual(patched, JSON.parse(JSON.stringify(mutated)));
      assertValidPod(patched);

      const expectedMode = fx.expect.mode ?? 'native';
      const sidecar = (expectedMode === 'native' ? patched.spec!.initContainers! : patched.spec!.containers!).at(-1)!;
      assert.equal(sidecar.name, 'tracebridge');
      assert.equal(envMap(sidecar).get('TRACEBRIDGE_HEADER_BRIDGE')?.value, fx.expect.bridge ? 'true' : undefined);
      const bridgePort = sidecar.ports!.find((p) => p.name === 'tb-bridge');
      assert.deepEqual(bridgePort, fx.expect.bridge ? { name: 'tb-bridge', containerPort: 13128, protocol: 'TCP' } : undefined);
      for (const e of sidecar.env!) assert.ok(!/^(HTTPS?_PROXY|https?_proxy|NO_PROXY|no_proxy)$/.test(e.name), `sidecar env ${e.name}`);

      // Init containers are never touched: they run before the bridge listens.
      const initBefore = original.spec!.initContainers ?? [];
      assert.deepEqual(patched.spec!.initContainers?.slice(0, initBefore.length) ?? [], initBefore);

      const status = JSON.parse(patched.metadata!.annotations!['tracebridge.io/status']!) as InjectionStatus;
      const bridge = status.headerBridge;
      if (!fx.expect.bridge) {
        if (fx.expect.offDetail !== undefined) {
          assert.equal(bridge?.enabled, false);
          assert.ok(bridge !== undefined && !bridge.enabled && bridge.detail.includes(fx.expect.offDetail), JSON.stringify(bridge));
        } else {
          assert.equal(bridge, undefined);
        }
        for (const c of patched.spec!.containers!) assert.ok(!envMap(c).has('TRACEBRIDGE_POD_IP'), c.name);
        return;
      }
      assert.ok(bridge?.enabled === true, JSON.stringify(bridge));
      const on: Extract<HeaderBridgeStatus, { enabled: true }> = bridge;
      assert.equal(on.proxy, 'http://127.0.0.1:13128');
      assert.deepEqual(Object.keys(on.appEnv).sort(), Object.keys(fx.expect.containers ?? {}).sort(), 'one entry per app container');
      for (const note of fx.expect.notes ?? []) assert.ok(on.notes?.some((n) => n.includes(note)), `note ${note}: ${JSON.stringify(on.notes)}`);

      const domain = (fx.config?.sidecar as { header_bridge?: { cluster_domain?: string } } | undefined)?.header_bridge?.cluster_domain ?? 'cluster.local';
      for (const [name, want] of Object.entries(fx.expect.containers ?? {})) {
        const outcome = on.appEnv[name]!;
        assert.deepEqual(outcome.set, want.set, `${name} set`);
        for (const [k, why] of Object.entries(want.left ?? {})) assert.ok(outcome.left[k]?.includes(why), `${name}.${k}: ${outcome.left[k]}`);

        const before = original.spec!.containers!.find((c) => c.name === name)!;
        const after = patched.spec!.containers!.find((c) => c.name === name)!;
        const beforeEnv = before.env ?? [];
        const afterEnv = after.env ?? [];
        // The bridge only appends; the telemetry takeover may point an endpoint variable at the sidecar.
        assert.deepEqual(afterEnv.slice(0, beforeEnv.length).map((e) => e.name), beforeEnv.map((e) => e.name), `env of ${name} kept in order`);
        const bridgeAdded = afterEnv.filter((e) => outcome.set.includes(e.name));
        assert.deepEqual(bridgeAdded.map((e) => e.name), want.set, `${name}: added in this order, after everything else`);
        assert.ok(!afterEnv.some((e, i) => i >= beforeEnv.length && /^https_proxy$/i.test(e.name)), 'HTTPS_PROXY is never set');
        const env = envMap(after);
        if (want.set.includes('HTTP_PROXY')) {
          assert.equal(env.get('HTTP_PROXY')!.value, 'http://127.0.0.1:13128');
          assert.equal(env.get('http_proxy')!.value, 'http://127.0.0.1:13128');
          assert.deepEqual(env.get('TRACEBRIDGE_POD_IP')!.valueFrom, { fieldRef: { fieldPath: 'status.podIP' } });
          // $(VAR) expands only from variables defined earlier in the list.
          const names = afterEnv.map((e) => e.name);
          for (const n of ['NO_PROXY', 'no_proxy'].filter((x) => want.set.includes(x))) assert.ok(names.indexOf('TRACEBRIDGE_POD_IP') < names.indexOf(n), n);
        }
        if (want.set.includes('NO_PROXY') && want.set.includes('no_proxy')) {
          assert.equal(env.get('NO_PROXY')!.value, EXPECTED_NO_PROXY.replace('cluster.local', domain));
          assert.equal(env.get('no_proxy')!.value, env.get('NO_PROXY')!.value);
        }
        if (want.set.includes('NODE_USE_ENV_PROXY')) assert.equal(env.get('NODE_USE_ENV_PROXY')!.value, '1');
      }
      // Idempotent: the injected pod is recognised and gets nothing more.
      assert.equal(decide(patched, namespace, decisionPolicy(cfg)).reason, 'already-injected');
    });
  }

  it('NO_PROXY: loopback, pod IP, the API server, cloud metadata; no suffixes that would bypass in-cluster calls', () => {
    const list = noProxyList('cluster.local');
    assert.equal(list, EXPECTED_NO_PROXY);
    for (const entry of list.split(',')) {
      assert.ok(!entry.startsWith('.') && !entry.startsWith('*'), `${entry}: a suffix rule`);
      assert.ok(!['svc', 'cluster.local', 'svc.cluster.local', 'local'].includes(entry), `${entry}: a domain every Service name falls under`);
    }
  });

  it('the mixed case: only no_proxy set by the app, NO_PROXY copies it', () => {
    const c: Container = { name: 'py', env: [{ name: 'no_proxy', value: '.internal' }] };
    const out = setBridgeEnv(c, sidecarSettings(testConfig()));
    assert.equal(envMap(c).get('NO_PROXY')!.value, '$(no_proxy)');
    assert.match(out.left.no_proxy!, /NO_PROXY copies it/);
  });

  it('any app env: only adds, never duplicates, never touches a container that names a proxy (property)', () => {
    const settings = sidecarSettings(testConfig());
    const names = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy', 'NODE_USE_ENV_PROXY', 'TRACEBRIDGE_POD_IP', 'PATH', 'OTEL_SERVICE_NAME'];
    const envVar = fc.record({ name: fc.constantFrom(...names), value: fc.string({ maxLength: 8 }) });
    fc.assert(
      fc.property(fc.uniqueArray(envVar, { selector: (e) => e.name, maxLength: 6 }), fc.boolean(), (generated: EnvVar[], withEnvFrom) => {
        const env = generated.map((e) => ({ ...e }));
        const c: Container = { name: 'app', env: structuredClone(env), ...(withEnvFrom ? { envFrom: [{ secretRef: { name: 's' } }] } : {}) };
        const out = setBridgeEnv(c, settings);
        const after = c.env ?? [];
        assert.deepEqual(after.slice(0, env.length), env, 'existing entries unchanged, in place');
        const afterNames = after.map((e) => e.name);
        assert.equal(new Set(afterNames).size, afterNames.length, 'no duplicate names');
        assert.deepEqual(after.slice(env.length).map((e) => e.name), out.set, 'status lists exactly what was added');
        const ownProxy = env.some((e) => e.name === 'HTTP_PROXY' || e.name === 'http_proxy');
        if (ownProxy || withEnvFrom) assert.equal(after.length, env.length, 'skipped whole');
        else assert.equal(new Map(after.map((e) => [e.name, e.value])).get('HTTP_PROXY'), 'http://127.0.0.1:13128');
        assert.ok(!out.set.some((n) => /^https_proxy$/i.test(n)));
      }),
      { numRuns: 300 },
    );
  });

  it('config: the bridge port is checked like the others, the cluster domain must be a DNS name', () => {
    assert.throws(() => testConfig({ sidecar: { ports: { header_bridge: 15001 } } }), /sidecar\.ports\.header_bridge: port 15001 is in the mesh proxy range Istio/);
    assert.throws(() => testConfig({ sidecar: { ports: { header_bridge: 8888 } } }), /sidecar\.ports\.header_bridge: port 8888 is also used by metrics/);
    assert.throws(() => testConfig({ sidecar: { header_bridge: { cluster_domain: 'Cluster_Local' } } }), /sidecar\.header_bridge\.cluster_domain/);
    const cfg = testConfig({ sidecar: { ports: { header_bridge: 3129 } } });
    const c: Container = { name: 'app' };
    setBridgeEnv(c, sidecarSettings(cfg));
    assert.equal(envMap(c).get('HTTP_PROXY')!.value, 'http://127.0.0.1:3129');
  });

  it('the pod fixtures without the annotation are injected exactly as before (no bridge env, no bridge port)', () => {
    const cfg = testConfig();
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'shop' }, spec: { containers: [{ name: 'a', image: 'a:1', env: [{ name: 'OTEL_TRACES_EXPORTER', value: 'otlp' }] }] } };
    const decision = decide(pod, ns('shop'), decisionPolicy(cfg));
    const { pod: out, status } = injectSidecar(pod, { settings: sidecarSettings(cfg), mode: chooseMode('true', { unknown: '' }), decision, version: 'v' });
    assert.equal(status.headerBridge, undefined);
    assert.deepEqual(out.spec!.containers![0]!.env!.map((e) => e.name), ['OTEL_TRACES_EXPORTER'], 'SDK defaults reach the sidecar: env kept');
    assert.ok(!JSON.parse(out.metadata!.annotations!['tracebridge.io/status']!).headerBridge);
  });
});
