import assert from 'node:assert/strict';
import jsonpatch from 'fast-json-patch';
import { mergeConfig } from '../../sidecar/config/load.ts';
import { decide, decisionPolicy } from '../../injector/decision.ts';
import { diff } from '../../injector/json-patch.ts';
import { chooseMode } from '../../injector/mode.ts';
import { injectSidecar, type InjectionStatus } from '../../injector/mutation.ts';
import { sidecarSettings } from '../../injector/config.ts';
import type { Container, Pod } from '../../injector/pod.ts';
import { podFixtures } from './fixtures/pods.ts';
import { assertRestricted, assertValidPod, BASE_CONFIG, testConfig } from './support.ts';

describe('injector decision and mutation over pod fixtures', () => {
  it(`has at least 25 fixtures (${podFixtures.length})`, () => assert.ok(podFixtures.length >= 25));

  for (const fx of podFixtures) {
    it(fx.name, () => {
      const cfg = testConfig(fx.config);
      const original = structuredClone(fx.pod);
      const decision = decide(fx.pod, fx.ns, decisionPolicy(cfg));
      assert.equal(decision.reason, fx.expect.reason, decision.message);
      assert.equal(decision.inject, fx.expect.inject);
      if (fx.expect.message !== undefined) assert.ok(decision.message.includes(fx.expect.message), decision.message);
      assert.equal(decision.namespaceUnknown !== undefined, fx.expect.namespaceUnknown === true);
      if (!decision.inject) return;

      const mode = chooseMode(cfg.sidecar.native, { unknown: 'test' });
      const { pod: mutated } = injectSidecar(fx.pod as Pod, { settings: sidecarSettings(cfg), mode, decision, version: '0.1.0' });
      assert.deepEqual(fx.pod, original, 'the input pod is not modified');

      const patch = diff(fx.pod, mutated);
      if (fx.expect.patch !== undefined) {
        assert.deepEqual(patch.map((op) => `${op.op}:${op.path}`).sort(), [...fx.expect.patch].sort());
      }
      // An independent JSON Patch implementation, validating each operation, must land on the same pod.
      const patched = jsonpatch.applyPatch(structuredClone(fx.pod), patch as jsonpatch.Operation[], true, false).newDocument as Pod;
      assert.deepEqual(patched, JSON.parse(JSON.stringify(mutated)));
      assertValidPod(patched);

      const expectedMode = fx.expect.mode ?? 'native';
      const list = expectedMode === 'native' ? patched.spec!.initContainers! : patched.spec!.containers!;
      const sidecar = list[list.length - 1] as Container;
      assert.equal(sidecar.name, 'tracebridge');
      assert.equal(sidecar.restartPolicy, expectedMode === 'native' ? 'Always' : undefined);
      assertRestricted(sidecar);
      if (fx.expect.portNames !== undefined) assert.deepEqual(sidecar.ports!.map((p) => p.name), fx.expect.portNames);

      // App env: every variable the takeover did not name stays as it was, in order; those set
      // name the sidecar on 127.0.0.1; those removed are gone.
      const statusOf = JSON.parse(patched.metadata!.annotations!['tracebridge.io/status']!) as InjectionStatus;
      (fx.pod as Pod).spec!.containers!.forEach((c, i) => {
        const wiring = statusOf.appEnv[c.name];
        const touched = new Set([...(wiring?.set ?? []), ...(wiring?.removed ?? [])]);
        const after = patched.spec!.containers![i]!.env ?? [];
        assert.deepEqual(
          after.filter((e) => !touched.has(e.name)),
          (c.env ?? []).filter((e) => !touched.has(e.name)),
          `env of ${c.name} kept as is`,
        );
        for (const name of wiring?.set ?? []) {
          assert.match(after.find((e) => e.name === name)!.value!, /^(?:http:\/\/)?127\.0\.0\.1:\d+$|^true$/, `${c.name} ${name}`);
        }
        for (const name of wiring?.removed ?? []) assert.ok(!after.some((e) => e.name === name), `${c.name} ${name} removed`);
      });

      const status = JSON.parse(patched.metadata!.annotations!['tracebridge.io/status']!) as InjectionStatus;
      assert.equal(status.reason, fx.expect.reason);
      assert.equal(status.mode, expectedMode);
      assert.equal(status.version, '0.1.0');
      assert.equal(status.namespace !== undefined, fx.expect.namespaceUnknown === true);
      assert.equal(patched.metadata!.labels!['tracebridge.io/injected'], 'true');
      for (const [name, want] of Object.entries(fx.expect.appEnv ?? {})) {
        assert.deepEqual(status.appEnv[name]!.set, want.set);
        for (const [k, why] of Object.entries(want.left ?? {})) assert.ok(status.appEnv[name]!.left[k]?.includes(why), `${name}.${k}`);
        if (want.reaches !== undefined) assert.equal(status.appEnv[name]!.reaches, want.reaches, `${name} reaches`);
        if (want.upstream !== undefined) assert.deepEqual(status.appEnv[name]!.upstream, want.upstream, `${name} upstream`);
        assert.deepEqual(status.appEnv[name]!.removed, want.removed, `${name} removed`);
      }

      // Idempotent: the injected pod decides "already injected" and gets no second sidecar.
      assert.equal(decide(patched, fx.ns, decisionPolicy(cfg)).reason, 'already-injected');
    });
  }

  it('sets the app env on 127.0.0.1 with the protocol the app chose', () => {
    const fx = podFixtures.find((f) => f.name.startsWith('app chose gRPC'))!;
    const cfg = testConfig();
    const decision = decide(fx.pod, fx.ns, decisionPolicy(cfg));
    const { pod } = injectSidecar(fx.pod as Pod, { settings: sidecarSettings(cfg), mode: chooseMode('true', { unknown: '' }), decision, version: 'v' });
    const env = Object.fromEntries(pod.spec!.containers![0]!.env!.map((e) => [e.name, e.value]));
    // The one form every SDK's gRPC and HTTP exporters accept: the generic endpoint without a path.
    assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://127.0.0.1:4317');
    assert.equal(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, undefined);
    assert.equal(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, 'grpc');
    assert.equal(env.AWS_XRAY_DAEMON_ADDRESS, undefined, 'an app naming no X-Ray daemon gets none');
    const sidecar = new Map(pod.spec!.initContainers!.at(-1)!.env!.map((e) => [e.name, e.value]));
    assert.equal(sidecar.get('TRACEBRIDGE_UPSTREAM_OTLP_TRACES_ENDPOINT'), 'https://tempo.tracing:4317');
    assert.equal(sidecar.get('TRACEBRIDGE_UPSTREAM_OTLP_TRACES_PROTOCOL'), 'grpc');
  });

  it('gives the sidecar the exporter, downward API, metrics address and config env of the contract', () => {
    const cfg = testConfig();
    const fx = podFixtures[0]!;
    const decision = decide(fx.pod, fx.ns, decisionPolicy(cfg));
    const { pod } = injectSidecar(fx.pod as Pod, { settings: sidecarSettings(cfg), mode: chooseMode('true', { unknown: '' }), decision, version: 'v' });
    const sidecar = pod.spec!.initContainers!.at(-1)!;
    const env = new Map(sidecar.env!.map((e) => [e.name, e]));
    assert.deepEqual(env.get('POD_UID')!.valueFrom, { fieldRef: { fieldPath: 'metadata.uid' } });
    assert.deepEqual(env.get('NODE_NAME')!.valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } });
    assert.match(env.get('OTEL_RESOURCE_ATTRIBUTES')!.value!, /^k8s\.pod\.name=\$\(POD_NAME\),k8s\.namespace\.name=\$\(POD_NAMESPACE\),k8s\.pod\.uid=\$\(POD_UID\),k8s\.node\.name=\$\(NODE_NAME\)$/);
    // Dependent variables must be defined before the one that references them.
    const order = sidecar.env!.map((e) => e.name);
    assert.ok(order.indexOf('POD_NAME') < order.indexOf('OTEL_RESOURCE_ATTRIBUTES'));
    assert.equal(env.get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')!.value, 'https://xray.us-east-1.amazonaws.com/v1/traces');
    assert.equal(env.get('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL')!.value, 'http/protobuf');
    assert.equal(env.get('AWS_REGION')!.value, 'us-east-1');
    assert.equal(env.get('TRACEBRIDGE_METRICS_ADDRESS')!.value, '0.0.0.0:8888');
    assert.equal(env.get('TRACEBRIDGE_CONFIG')!.value, '/etc/tracebridge/config.yaml');
    assert.equal(sidecar.args, undefined, 'no args: a missing optional ConfigMap must not break start-up');
    assert.deepEqual(pod.spec!.volumes!.at(-1), { name: 'tracebridge-config', configMap: { name: 'tracebridge-sidecar', optional: true } });
    assert.deepEqual(sidecar.volumeMounts, [{ name: 'tracebridge-config', mountPath: '/etc/tracebridge', readOnly: true }]);
    assert.equal((sidecar.startupProbe as { httpGet: { port: number } }).httpGet.port, 13133);
    assert.equal(sidecar.readinessProbe, undefined, 'a sidecar never takes the app out of its Service');
  });

  it('without config_map: no volume, no TRACEBRIDGE_CONFIG; sidecar.env extras replace by name', () => {
    const cfg = testConfig({ sidecar: { config_map: null, env: { AWS_REGION: 'eu-west-1', HTTPS_PROXY: 'http://proxy:3128' } } });
    // mergeConfig keeps null: decoding treats it as absent.
    assert.equal(cfg.sidecar.config_map, undefined);
    const fx = podFixtures[0]!;
    const decision = decide(fx.pod, fx.ns, decisionPolicy(cfg));
    const { pod } = injectSidecar(fx.pod as Pod, { settings: sidecarSettings(cfg), mode: chooseMode('true', { unknown: '' }), decision, version: 'v' });
    const sidecar = pod.spec!.initContainers!.at(-1)!;
    const names = sidecar.env!.map((e) => e.name);
    assert.ok(!names.includes('TRACEBRIDGE_CONFIG'));
    assert.equal(names.filter((n) => n === 'AWS_REGION').length, 1);
    assert.equal(sidecar.env!.find((e) => e.name === 'AWS_REGION')!.value, 'eu-west-1');
    assert.ok(names.includes('HTTPS_PROXY'));
    assert.equal(pod.spec!.volumes, undefined);
    assert.equal(sidecar.volumeMounts, undefined);
    void mergeConfig;
    void BASE_CONFIG;
  });
});
