// Decisions over manifests shaped like real installs (fixtures/real-manifests.ts): control planes
// skipped, gateways filled in by Istio recognised as meshed, ports taken without being declared.
import assert from 'node:assert/strict';
import jsonpatch from 'fast-json-patch';
import { parseAllDocuments } from 'yaml';
import { sidecarSettings } from '../../injector/config.ts';
import { decide, decisionPolicy, servicePortHints } from '../../injector/decision.ts';
import { diff } from '../../injector/json-patch.ts';
import { meshWiringStep, type MeshStatus } from '../../injector/mesh-wiring.ts';
import { chooseMode } from '../../injector/mode.ts';
import { injectSidecar } from '../../injector/mutation.ts';
import { isRecord, stringMap, type NamespaceInfo, type Pod } from '../../injector/pod.ts';
import { backendImageFixtures, manifestFixtures, namespaceOptOutFixtures, type ManifestFixture } from './fixtures/real-manifests.ts';
import { assertValidPod, testConfig } from './support.ts';

type Obj = Record<string, unknown>;

/** The first Pod or pod template of a manifest, its namespace as the manifest tells it, and every object. */
function firstWorkload(fx: ManifestFixture): { pod: Pod; ns: NamespaceInfo; objects: unknown[] } {
  const objects = parseAllDocuments(fx.manifest).map((d) => {
    assert.deepEqual(d.errors, [], fx.name);
    return d.toJS() as unknown;
  });
  const workload = objects.find((o): o is Obj => isRecord(o) && o.kind !== 'Namespace' && o.kind !== 'Service');
  assert.ok(workload !== undefined, 'a workload in the manifest');
  const meta = workload.metadata as Obj;
  const nsName = typeof meta.namespace === 'string' ? meta.namespace : 'default';
  let pod: Pod;
  if (workload.kind === 'Pod') pod = workload;
  else {
    const spec = workload.spec as Obj;
    const template = (workload.kind === 'CronJob' ? ((spec.jobTemplate as Obj).spec as Obj).template : spec.template) as Obj;
    pod = { apiVersion: 'v1', kind: 'Pod', metadata: (template.metadata as Pod['metadata']) ?? {}, spec: template.spec as Pod['spec'] };
  }
  const nsObject = objects.find((o): o is Obj => isRecord(o) && o.kind === 'Namespace' && (o.metadata as Obj).name === nsName);
  const ns: NamespaceInfo =
    nsObject === undefined || fx.namespaceUnknown === true
      ? { known: false, name: nsName, why: `offline: namespace ${nsName} is not in the manifest` }
      : { known: true, name: nsName, labels: stringMap((nsObject.metadata as Obj).labels), annotations: stringMap((nsObject.metadata as Obj).annotations) };
  return { pod, ns, objects };
}

function check(fx: ManifestFixture): void {
  const cfg = testConfig(fx.config);
  const { pod, ns, objects } = firstWorkload(fx);
  const hints = fx.services === true ? { services: servicePortHints(objects, 'default') } : undefined;
  const d = decide(pod, ns, decisionPolicy(cfg), hints);
  assert.equal(d.reason, fx.expect.reason, d.message);
  assert.equal(d.inject, fx.expect.inject);
  if (fx.expect.message !== undefined) assert.match(d.message, fx.expect.message);
  if (!d.inject) return;
  const { pod: injected } = injectSidecar(pod, { settings: sidecarSettings(cfg), mode: chooseMode('true', { unknown: '' }), decision: d, version: 'v' }, [meshWiringStep(cfg, ns)]);
  const patched = jsonpatch.applyPatch(structuredClone(pod), diff(pod, injected) as jsonpatch.Operation[], true, false).newDocument;
  assertValidPod(patched);
  assert.equal(decide(patched, ns, decisionPolicy(cfg), hints).reason, 'already-injected');
}

describe('injector decision over real-world manifests', () => {
  for (const fx of manifestFixtures) it(fx.name, () => check(fx));
});

describe('injector decision: namespace-wide mesh opt-outs', () => {
  for (const fx of namespaceOptOutFixtures) it(fx.name, () => check(fx));
});

describe('injector decision: tracing backend images', () => {
  for (const fx of backendImageFixtures) it(fx.name, () => check(fx));
});

describe('injector decision: Service port hints', () => {
  it('servicePortHints reads Services (and List items) with their namespace, selector and target ports', () => {
    const hints = servicePortHints(
      [
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: { selector: { app: 'a' }, ports: [{ port: 80, targetPort: 9411 }, { port: 4317, protocol: 'TCP' }, { port: 53, targetPort: 'dns', protocol: 'UDP' }] } },
        { apiVersion: 'v1', kind: 'List', items: [{ kind: 'Service', metadata: { name: 'b', namespace: 'x' }, spec: { selector: { app: 'b' }, ports: [{ port: 8888 }] } }] },
        // Without a selector a Service routes to no pod by labels (endpoints are managed by hand).
        { kind: 'Service', metadata: { name: 'external', namespace: 'x' }, spec: { type: 'ExternalName', externalName: 'db.example.com', ports: [{ port: 9411 }] } },
        { kind: 'Deployment', metadata: { name: 'a' } },
        'not an object',
        null,
        { kind: 'Service', metadata: { name: 'broken' }, spec: { selector: { app: 'c' }, ports: 'nope' } },
      ],
      'shop',
    );
    assert.deepEqual(hints, [
      { service: 'a', namespace: 'shop', selector: { app: 'a' }, targetPort: 9411, protocol: 'TCP' },
      { service: 'a', namespace: 'shop', selector: { app: 'a' }, targetPort: 4317, protocol: 'TCP' },
      { service: 'a', namespace: 'shop', selector: { app: 'a' }, targetPort: 'dns', protocol: 'UDP' },
      { service: 'b', namespace: 'x', selector: { app: 'b' }, targetPort: 8888, protocol: 'TCP' },
    ]);
  });
});

describe('injector mesh wiring of an Istio gateway template', () => {
  it('wires the gateway (the placeholder is not a late injection) and records it', () => {
    const fx = manifestFixtures[0]!;
    const cfg = testConfig();
    const { pod, ns } = firstWorkload(fx);
    const d = decide(pod, ns, decisionPolicy(cfg));
    const { pod: injected, status } = injectSidecar(pod, { settings: sidecarSettings(cfg), mode: chooseMode('true', { unknown: '' }), decision: d, version: 'v' }, [meshWiringStep(cfg, ns)]);
    const mesh = status.mesh as MeshStatus;
    assert.equal(mesh.istio?.result, 'applied', mesh.istio?.detail);
    assert.doesNotMatch(mesh.istio?.detail ?? '', /already in the pod|not applied/);
    assert.match(mesh.shutdown, /^Istio gateway: .*no traffic is redirected.*tracebridge stops after the gateway/);
    assert.match(injected.metadata!.annotations!['proxy.istio.io/config']!, /127\.0\.0\.1:9411/);
    // The placeholder is left for Istio to fill in, env included.
    assert.deepEqual(injected.spec!.containers![0], pod.spec!.containers![0]);
  });
});
