import assert from 'node:assert/strict';
import jsonpatch from 'fast-json-patch';
import type { AdmissionDeps } from '../../injector/admission.ts';
import type { NamespaceInfo, Pod } from '../../injector/pod.ts';
import { meshWiringStep } from '../../injector/mesh-wiring.ts';
import { meshFixtures } from './fixtures/meshed-pods.ts';
import { podFixtures, ns } from './fixtures/pods.ts';
import { admissionHandler, assertValidPod, review, testConfig } from './support.ts';

function handler(overrides: Partial<AdmissionDeps> = {}, nsInfo: NamespaceInfo = ns('shop')) {
  return admissionHandler(overrides, nsInfo);
}

const body = (v: unknown) => Buffer.from(JSON.stringify(v));
const SECRET = 's3cr3t-token-value';
const injectable = (): Pod => {
  const p = structuredClone(podFixtures[0]!.pod) as Pod;
  p.spec!.containers![0]!.env!.push({ name: 'DB_PASSWORD', value: SECRET });
  return p;
};

describe('injector admission handler', () => {
  it('echoes the uid and answers a base64 JSON Patch that yields a valid Pod', async () => {
    const { h, metrics } = handler();
    const pod = injectable();
    const answer = await h.review(body(review(pod)));
    assert.equal(answer.status, 200);
    const res = (answer.body as { apiVersion: string; kind: string; response: Record<string, unknown> });
    assert.equal(res.apiVersion, 'admission.k8s.io/v1');
    assert.equal(res.kind, 'AdmissionReview');
    assert.equal(res.response.uid, '705ab4f5-6393-11e8-b7cc-42010a800002');
    assert.equal(res.response.allowed, true);
    assert.equal(res.response.patchType, 'JSONPatch');
    const patch = JSON.parse(Buffer.from(res.response.patch as string, 'base64').toString()) as jsonpatch.Operation[];
    const patched = jsonpatch.applyPatch(structuredClone(pod), patch, true, false).newDocument;
    assertValidPod(patched);
    assert.equal(metrics.decisions.get({ inject: 'true', reason: 'auto-otel-env' }), 1);
    assert.equal(metrics.admissionReviews.get({ outcome: 'patched', dry_run: 'false' }), 1);
  });

  it('uses request.namespace when the object has none and request.name may be empty', async () => {
    let asked = '';
    const { h, log } = handler({ namespace: (n) => ((asked = n), Promise.resolve(ns(n))) });
    const pod = injectable();
    delete pod.metadata!.name;
    delete pod.metadata!.namespace;
    pod.metadata!.generateName = 'checkout-5d9c-';
    const answer = await h.review(body(review(pod, { name: '', namespace: 'payments' })));
    assert.equal(asked, 'payments');
    assert.ok((answer.body as { response: { patch?: string } }).response.patch !== undefined);
    const line = log.lines().find((l) => l.msg === 'sidecar injected')!;
    assert.equal(line.name, 'checkout-5d9c-*');
    assert.equal(line.namespace, 'payments');
  });

  it('answers a dry-run request the same way (no side effects to skip)', async () => {
    const { h, metrics } = handler();
    const answer = await h.review(body(review(injectable(), { dryRun: true })));
    assert.ok((answer.body as { response: { patch?: string } }).response.patch !== undefined);
    assert.equal(metrics.admissionReviews.get({ outcome: 'patched', dry_run: 'true' }), 1);
  });

  it('allows without a patch when the decision is no', async () => {
    const { h, metrics } = handler();
    const nginx = podFixtures.find((f) => f.name.startsWith('plain nginx'))!.pod;
    const res = (await h.review(body(review(nginx)))).body as { response: Record<string, unknown> };
    assert.deepEqual(res.response, { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
    assert.equal(metrics.decisions.get({ inject: 'false', reason: 'no-span-signal' }), 1);
  });

  it('never patches UPDATE (pod specs are immutable)', async () => {
    const { h } = handler();
    const res = (await h.review(body(review(injectable(), { operation: 'UPDATE' })))).body as { response: Record<string, unknown> };
    assert.equal(res.response.patch, undefined);
    assert.equal(res.response.allowed, true);
  });

  for (const [name, raw] of [
    ['not JSON', Buffer.from('{"apiVersion": ')],
    ['a JSON array', body([1, 2])],
    ['v1beta1', body({ ...review({}), apiVersion: 'admission.k8s.io/v1beta1' })],
    ['wrong kind', body({ ...review({}), kind: 'Pod' })],
    ['no request', body({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' })],
    ['no uid', body({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { object: {} } })],
  ] as const) {
    it(`answers 400 to a malformed review: ${name}`, async () => {
      const { h, metrics } = handler();
      const answer = await h.review(raw);
      assert.equal(answer.status, 400);
      assert.equal(metrics.errors.get({ kind: 'malformed' }), 1);
    });
  }

  it('fails open on an internal error: allowed, no patch, logged and counted, pod not logged', async () => {
    const { h, metrics, log } = handler({ mode: () => Promise.reject(new Error('boom')) });
    const answer = await h.review(body(review(injectable())));
    assert.equal(answer.status, 200);
    assert.deepEqual((answer.body as { response: unknown }).response, { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
    assert.equal(metrics.failOpen.get(), 1);
    assert.equal(metrics.errors.get({ kind: 'internal' }), 1);
    const lines = log.lines();
    assert.ok(lines.some((l) => l.level === 'error' && l.err === 'boom'));
    assert.ok(!JSON.stringify(lines).includes(SECRET), 'pod env never reaches the logs');
  });

  it('fails open when the namespace lookup throws', async () => {
    const { h, metrics } = handler({ namespace: () => Promise.reject(new TypeError('cache bug')) });
    const answer = await h.review(body(review(injectable())));
    assert.equal(answer.status, 200);
    assert.deepEqual((answer.body as { response: unknown }).response, { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
    assert.equal(metrics.failOpen.get(), 1);
  });

  it('counts mesh wiring and warns about a late injection (mesh proxy already there)', async () => {
    const late = meshFixtures.find((f) => f.name.startsWith('late: classic istio-proxy'))!;
    const cfg = testConfig();
    const { h, metrics, log } = handler({ steps: (n) => [meshWiringStep(cfg, n)] }, late.ns);
    const res = (await h.review(body(review(late.pod)))).body as { response: { patch?: string } };
    assert.ok(res.response.patch !== undefined, 'the sidecar is still injected');
    assert.equal(metrics.meshWiring.get({ mesh: 'istio', result: 'skipped_late' }), 1);
    const warn = log.lines().find((l) => l.level === 'warn')!;
    assert.match(String(warn.msg), /mesh wiring not applied \(webhook order\)/);
    assert.equal(warn.mesh, 'istio');
    const info = log.lines().find((l) => l.msg === 'sidecar injected')!;
    assert.deepEqual(info.mesh, { istio: 'skipped_late' });

    const fresh = meshFixtures[0]!;
    const { h: h2, metrics: m2 } = handler({ steps: (n) => [meshWiringStep(cfg, n)] }, fresh.ns);
    await h2.review(body(review(fresh.pod)));
    assert.equal(m2.meshWiring.get({ mesh: 'istio', result: 'applied' }), 1);
  });

  it('does not inject a pod from which nothing would reach the sidecar (envFrom only, no mesh), unless it opts in', async () => {
    const { h, metrics, log } = handler();
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'api-1', namespace: 'shop' },
      spec: { containers: [{ name: 'api', image: 'a:1', envFrom: [{ configMapRef: { name: 'otel' } }], env: [{ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://collector:4318' }] }] },
    };
    const res = (await h.review(body(review(pod)))).body as { response: Record<string, unknown> };
    assert.equal(res.response.patch, undefined);
    assert.equal(metrics.decisions.get({ inject: 'false', reason: 'nothing-reaches' }), 1);
    assert.match(String(log.lines().at(-1)!.detail), /no app container's telemetry would reach the sidecar and no mesh proxy sends to it \(api: does NOT reach the sidecar \(left as it is \(envFrom/);

    pod.metadata!.annotations = { 'tracebridge.io/inject': 'true' };
    const optIn = (await h.review(body(review(pod)))).body as { response: Record<string, unknown> };
    assert.equal(typeof optIn.response.patch, 'string', "the operator's opt-in injects it anyway");
    assert.deepEqual(log.lines().at(-1)!.reaches, { api: false });

    // The same app in an Istio namespace: Envoy sends to the sidecar, so it is injected.
    const meshed = handler({}, ns('shop', { 'istio-injection': 'enabled' }));
    delete pod.metadata!.annotations;
    const viaMesh = (await meshed.h.review(body(review(pod)))).body as { response: Record<string, unknown> };
    assert.equal(typeof viaMesh.response.patch, 'string');
  });

  it('reinvoked after the OpenTelemetry Operator gave the app its collector: that destination is taken over too, once', async () => {
    const { h, log } = handler();
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'orders-0', namespace: 'shop', annotations: { 'instrumentation.opentelemetry.io/inject-java': 'true' } },
      spec: { containers: [{ name: 'orders', image: 'shop/orders:4' }] },
    };
    const patchOf = (res: { response: Record<string, unknown> }) => JSON.parse(Buffer.from(res.response.patch as string, 'base64').toString()) as jsonpatch.Operation[];
    const first = (await h.review(body(review(pod)))).body as { response: Record<string, unknown> };
    const injected = jsonpatch.applyPatch(structuredClone(pod), patchOf(first), true, false).newDocument;
    assert.equal(injected.spec!.containers![0]!.env, undefined, 'the SDK defaults reach the sidecar: env kept');

    // The operator's webhook runs after tracebridge's (name order) and adds its exporter settings.
    const operated = structuredClone(injected);
    operated.spec!.containers![0]!.env = [
      { name: 'OTEL_SERVICE_NAME', value: 'orders' },
      { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://otel-collector.observability:4318' },
      { name: 'JAVA_TOOL_OPTIONS', value: ' -javaagent:/otel-auto-instrumentation-java/javaagent.jar' },
    ];
    const second = (await h.review(body(review(operated)))).body as { response: Record<string, unknown> };
    assert.equal(typeof second.response.patch, 'string', 'the reinvocation patches');
    const final = jsonpatch.applyPatch(structuredClone(operated), patchOf(second), true, false).newDocument;
    assertValidPod(final);
    const appEnv = new Map(final.spec!.containers![0]!.env!.map((e) => [e.name, e.value]));
    assert.equal(appEnv.get('OTEL_EXPORTER_OTLP_ENDPOINT'), 'http://127.0.0.1:4318');
    const sidecarEnv = new Map(final.spec!.initContainers!.at(-1)!.env!.map((e) => [e.name, e.value]));
    assert.equal(sidecarEnv.get('TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT'), 'http://otel-collector.observability:4318');
    const status = JSON.parse(final.metadata!.annotations!['tracebridge.io/status']!) as { appEnv: Record<string, { reaches: boolean; upstream?: string[] }> };
    assert.deepEqual(status.appEnv.orders!.upstream, ['OTEL_EXPORTER_OTLP_ENDPOINT']);
    assert.deepEqual(log.lines().at(-1)!.takenOverOnReinvocation, ['orders']);

    const third = (await h.review(body(review(final)))).body as { response: Record<string, unknown> };
    assert.equal(third.response.patch, undefined, 'nothing more to do');
  });

  it('logs decisions without the pod spec', async () => {
    const { h, log } = handler();
    await h.review(body(review(injectable())));
    const text = JSON.stringify(log.lines());
    assert.ok(!text.includes(SECRET));
    assert.ok(!text.includes('registry.example.com'), 'no container images either');
    assert.ok(text.includes('auto-otel-env'));
    // The sidecar's logger, under the injector's own name; ISO time, level as a label.
    const line = log.lines()[0]!;
    assert.equal(line.service, 'tracebridge-injector');
    assert.equal(line.level, 'info');
    assert.match(String(line.time), /^\d{4}-\d\d-\d\dT/);
  });
});
