import assert from 'node:assert/strict';
import jsonpatch from 'fast-json-patch';
import { parse as parseYaml } from 'yaml';
import { sidecarSettings } from '../../injector/config.ts';
import { decide, decisionPolicy } from '../../injector/decision.ts';
import { diff } from '../../injector/json-patch.ts';
import { meshWiringStep, type MeshStatus } from '../../injector/mesh-wiring.ts';
import { chooseMode } from '../../injector/mode.ts';
import { injectSidecar } from '../../injector/mutation.ts';
import { mergePortList } from '../../injector/port-list.ts';
import { checkWebhookOrder } from '../../injector/webhook-order.ts';
import { meshFixtures } from './fixtures/meshed-pods.ts';
import { assertValidPod, testConfig } from './support.ts';

describe('injector mesh wiring over meshed pod fixtures', () => {
  for (const fx of meshFixtures) {
    it(fx.name, () => {
      const cfg = testConfig(fx.config);
      const decision = decide(fx.pod, fx.ns, decisionPolicy(cfg));
      assert.equal(decision.inject, true, decision.message);
      const mode = chooseMode(cfg.sidecar.native, { unknown: 'test' });
      const { pod: mutated, status } = injectSidecar(fx.pod, { settings: sidecarSettings(cfg), mode, decision, version: 'v' }, [meshWiringStep(cfg, fx.ns)]);
      const patched = jsonpatch.applyPatch(structuredClone(fx.pod), diff(fx.pod, mutated) as jsonpatch.Operation[], true, false).newDocument;
      assertValidPod(patched);
      const annotations = patched.metadata!.annotations!;

      const mesh = status.mesh as MeshStatus;
      assert.deepEqual(JSON.parse(annotations['tracebridge.io/status']!).mesh, mesh, 'the annotation records the mesh outcome');
      assert.equal(mesh.istio?.result, fx.expect.istio, mesh.istio?.detail);
      assert.equal(mesh.linkerd?.result, fx.expect.linkerd, mesh.linkerd?.detail);
      assert.match(mesh.shutdown, fx.expect.shutdown);
      if (fx.expect.detail !== undefined) assert.match(`${mesh.istio?.detail ?? ''} ${mesh.linkerd?.detail ?? ''}`, fx.expect.detail);
      for (const [key, value] of Object.entries(fx.expect.annotations ?? {})) assert.equal(annotations[key], value, key);
      if (fx.expect.proxyConfig !== undefined) assert.deepEqual(parseYaml(annotations['proxy.istio.io/config']!), fx.expect.proxyConfig);
      if (fx.expect.linkerdEnv !== undefined) assert.deepEqual(JSON.parse(annotations['config.linkerd.io/proxy-additional-env']!), fx.expect.linkerdEnv);
      // Every annotation the pod came with is still there (values may only be merged into).
      for (const key of Object.keys(fx.pod.metadata?.annotations ?? {})) assert.ok(key in annotations, key);
      // The proxy containers of a late injection are untouched.
      for (const c of [...(fx.pod.spec!.initContainers ?? []), ...fx.pod.spec!.containers!]) {
        if (c.name === 'istio-proxy' || c.name === 'linkerd-proxy') {
          const after = [...(patched.spec!.initContainers ?? []), ...patched.spec!.containers!].find((x) => x.name === c.name);
          assert.deepEqual(after, c);
        }
      }
    });
  }

  it('JSON stays JSON and YAML stays YAML', () => {
    const json = meshFixtures[1]!;
    const cfg = testConfig();
    const d = decide(json.pod, json.ns, decisionPolicy(cfg));
    const out = injectSidecar(json.pod, { settings: sidecarSettings(cfg), mode: chooseMode('true', { unknown: '' }), decision: d, version: 'v' }, [meshWiringStep(cfg, json.ns)]);
    assert.doesNotThrow(() => JSON.parse(out.pod.metadata!.annotations!['proxy.istio.io/config']!));
    const yaml = meshFixtures[2]!;
    const d2 = decide(yaml.pod, yaml.ns, decisionPolicy(cfg));
    const out2 = injectSidecar(yaml.pod, { settings: sidecarSettings(cfg), mode: chooseMode('true', { unknown: '' }), decision: d2, version: 'v' }, [meshWiringStep(cfg, yaml.ns)]);
    assert.throws(() => JSON.parse(out2.pod.metadata!.annotations!['proxy.istio.io/config']!));
    assert.match(out2.pod.metadata!.annotations!['proxy.istio.io/config']!, /^terminationDrainDuration: 20s$/m);
  });
});

describe('injector port list merge', () => {
  it('merges, keeps order and spelling, skips covered ports', () => {
    assert.deepEqual(mergePortList(undefined, [13133, 8888], false), { value: '13133,8888', added: [13133, 8888] });
    assert.deepEqual(mergePortList(' 9090 , 13133', [13133, 8888], false), { value: '9090,13133,8888', added: [8888] });
    assert.deepEqual(mergePortList('4190-4191,8000-9000', [13133, 8888], true), { value: '4190-4191,8000-9000,13133', added: [13133] });
    assert.ok('malformed' in mergePortList('8000-9000', [1], false), 'Istio takes no ranges');
    assert.ok('malformed' in mergePortList('80,abc', [1], true));
    assert.ok('malformed' in mergePortList('70000', [1], true));
  });
});

describe('injector webhook order check', () => {
  const config = (name: string, ...hooks: string[]) => ({ metadata: { name }, webhooks: hooks.map((h) => ({ name: h })) });
  const list = (...items: unknown[]) => ({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfigurationList', items });

  it('is quiet when tracebridge sorts first', () => {
    const findings = checkWebhookOrder(
      list(
        config('0-tracebridge-injector', 'inject.tracebridge.io'),
        config('istio-revision-tag-default', 'rev.namespace.sidecar-injector.istio.io', 'rev.object.sidecar-injector.istio.io'),
        config('istio-sidecar-injector', 'namespace.sidecar-injector.istio.io'),
        config('linkerd-proxy-injector-webhook-config', 'linkerd-proxy-injector.linkerd.io'),
        config('pod-identity-webhook', 'iam-for-pods.amazonaws.com'),
        config('cert-manager-webhook', 'webhook.cert-manager.io'),
      ),
      '0-tracebridge-injector',
    );
    assert.deepEqual(findings, []);
  });

  it('names each mesh or identity webhook that runs first', () => {
    const findings = checkWebhookOrder(
      list(
        config('tracebridge-injector', 'inject.tracebridge.io'),
        config('istio-sidecar-injector', 'namespace.sidecar-injector.istio.io', 'object.sidecar-injector.istio.io'),
        config('linkerd-proxy-injector-webhook-config', 'linkerd-proxy-injector.linkerd.io'),
        config('pod-identity-webhook', 'iam-for-pods.amazonaws.com'),
        config('vault-agent-injector-cfg', 'vault.hashicorp.com'),
      ),
      'tracebridge-injector',
    );
    assert.deepEqual(
      findings.map((f) => f.configuration),
      ['istio-sidecar-injector', 'linkerd-proxy-injector-webhook-config', 'pod-identity-webhook'],
    );
    assert.match(findings[2]!.message, /EKS pod identity/);
    assert.match(findings[0]!.message, /Istio's sidecar injector .* sorts before tracebridge-injector/);
  });

  it('says so when its own configuration is missing', () => {
    const findings = checkWebhookOrder(list(config('istio-sidecar-injector', 'sidecar-injector.istio.io')), '0-tracebridge-injector');
    assert.match(findings[0]!.message, /not found/);
  });
});
