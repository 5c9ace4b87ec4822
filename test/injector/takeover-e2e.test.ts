// End to end, as a pod runs: the injector rewrites an app's env and gives the sidecar its own;
// the sidecar process starts with exactly that env (valueFrom and $(VAR) resolved as the kubelet
// does) on its embedded default; the app, an OpenTelemetry JS SDK process whose exporters are
// built in code and configured only by that env, sends a span and a metric. They must arrive where
// the app sent them before injection (a sink standing in for its collector, on another loopback
// address), with the app's headers from its Secret, unless the operator named an exporter: then
// traces go there and metrics still reach the app's collector.
import assert from 'node:assert/strict';
import { sidecarSettings, decodeInjectorConfig } from '../../injector/config.ts';
import { decide, decisionPolicy } from '../../injector/decision.ts';
import { chooseMode } from '../../injector/mode.ts';
import { injectSidecar } from '../../injector/mutation.ts';
import type { Container, EnvVar, Pod } from '../../injector/pod.ts';
import { kubeletEnv, type PodWorld } from '../support/kubelet-env.ts';
import { GrpcSink, HttpSink, type Received } from '../support/otlp-sinks.ts';
import { freeSidecarPorts } from '../support/sidecar-env.ts';
import { runProcess, startProcess, type Running } from '../support/process.ts';
import { ns } from './fixtures/pods.ts';

const WORLD: PodWorld = {
  fields: { 'metadata.name': 'checkout-7d9f-x2k4q', 'metadata.namespace': 'shop', 'metadata.uid': 'u-1', 'spec.nodeName': 'ip-10-0-1-7', 'status.hostIP': '127.0.0.2' },
  secrets: { 'otel-tenant': { headers: 'x-tenant=acme,authorization=Bearer%20s3cr3t' } },
};

/** The pod of one app container, as the API server hands it to the webhook. */
function appPod(container: Container): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'checkout-7d9f-x2k4q', namespace: 'shop' }, spec: { containers: [container] } };
}

async function injectorConfig(exporter?: Record<string, unknown>) {
  const ports = await freeSidecarPorts();
  return decodeInjectorConfig({ sidecar: { image: 'ghcr.io/example/tracebridge:0.1.0', native: true, ports, ...(exporter ? { exporter } : {}) } }, { requireTls: false });
}

function injected(pod: Pod, cfg: ReturnType<typeof decodeInjectorConfig>) {
  const decision = decide(pod, ns('shop'), decisionPolicy(cfg));
  assert.ok(decision.inject, decision.message);
  const { pod: out } = injectSidecar(pod, { settings: sidecarSettings(cfg), mode: chooseMode(cfg.sidecar.native, { unknown: 'test' }), decision, version: 'e2e' });
  return { app: out.spec!.containers![0]!, sidecar: out.spec!.initContainers!.at(-1)! };
}

async function startSidecar(sidecar: Container, health: number, stops: (() => Promise<unknown> | void)[]): Promise<Running> {
  const proc = startProcess('sidecar/main.ts', [], kubeletEnv(sidecar.env, WORLD));
  // Stopped after the test whatever happens, even when it never becomes healthy.
  stops.push(async () => {
    proc.child.kill('SIGTERM');
    await proc.exited;
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await fetch(`http://127.0.0.1:${health}/`).then((r) => r.status === 200, () => false);
    if (up) return proc;
    if (Date.now() > deadline) throw new Error(`sidecar not healthy:\n${proc.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function runApp(app: Container, exporter: 'grpc' | 'http', extra: Record<string, string> = {}): Promise<{ traces?: number; metrics?: number; errors: string[] }> {
  const r = await runProcess('test/support/otel-env-app.ts', [], { ...kubeletEnv(app.env, WORLD), APP_EXPORTER: exporter, ...extra });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { traces?: number; metrics?: number; errors: string[] };
}

const has = (r: Received, text: string) => r.bytes.includes(Buffer.from(text));

describe('injector takeover end to end: OpenTelemetry JS SDK app → injected sidecar → the app’s own collector', function () {
  this.timeout(30_000);
  const stops: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  it('gRPC exporters built in code, collector at http://<collector>:4317 with tenant headers from a Secret: span and metric reach the collector', async () => {
    // The OpenTelemetry demo's pattern. The collector listens where the app named it (127.0.0.2
    // stands in for the collector Service; 4317 is the port apps name).
    const collector = await new GrpcSink().start(4317, undefined, '127.0.0.2');
    stops.push(() => collector.stop());
    const cfg = await injectorConfig();
    const pod = appPod({
      name: 'checkout',
      image: 'ghcr.io/open-telemetry/demo:2.0.2-checkout',
      env: [
        { name: 'OTEL_SERVICE_NAME', value: 'checkout' },
        { name: 'OTEL_COLLECTOR_NAME', value: '127.0.0.2' },
        { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://$(OTEL_COLLECTOR_NAME):4317' },
        { name: 'OTEL_EXPORTER_OTLP_HEADERS', valueFrom: { secretKeyRef: { name: 'otel-tenant', key: 'headers' } } },
      ],
    });
    const { app, sidecar } = injected(pod, cfg);
    assert.equal(kubeletEnv(app.env, WORLD).OTEL_EXPORTER_OTLP_ENDPOINT, `http://127.0.0.1:${cfg.sidecar.ports.otlp_grpc}`);

    const proc = await startSidecar(sidecar, cfg.sidecar.ports.health, stops);
    assert.match(proc.stderr(), /traces: to the app's destination http:\/\/127\.0\.0\.2:4317 over grpc/);

    const result = await runApp(app, 'grpc');
    assert.deepEqual(result, { traces: 0, metrics: 0, errors: [] });
    await collector.waitUntil(() => collector.received.some((r) => r.signal === 'traces') && collector.received.some((r) => r.signal === 'metrics'), 10_000, 'a span and a metric');
    const traces = collector.received.find((r) => r.signal === 'traces')!;
    const metrics = collector.received.find((r) => r.signal === 'metrics')!;
    assert.ok(has(traces, 'GET /cart'), 'the app span');
    assert.ok(has(traces, 'k8s.pod.name'), 'passed through the sidecar, which adds the pod resource');
    assert.ok(has(metrics, 'app.requests'), 'the app metric, unchanged');
    for (const r of [traces, metrics]) {
      assert.equal(r.headers['x-tenant'], 'acme');
      assert.equal(r.headers.authorization, 'Bearer s3cr3t');
    }
  });

  it('per-signal endpoints of two protocols (gRPC traces to :4317, OTLP/HTTP metrics to :4318/v1/metrics): one generic endpoint serves both exporters, each signal reaches its own collector', async () => {
    const tracesCollector = await new GrpcSink().start(4317, undefined, '127.0.0.2');
    const metricsCollector = await new HttpSink().start(4318, undefined, '127.0.0.2');
    stops.push(() => tracesCollector.stop(), () => metricsCollector.stop());
    const cfg = await injectorConfig();
    const pod = appPod({
      name: 'recommendation',
      image: 'registry.example.com/shop/recommendation:1.0',
      env: [
        { name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', value: 'http://127.0.0.2:4317' },
        { name: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', value: 'http://127.0.0.2:4318/v1/metrics' },
      ],
    });
    const { app, sidecar } = injected(pod, cfg);
    // No per-signal value suits both exporter kinds in every SDK: the generic endpoint replaces them.
    const env = kubeletEnv(app.env, WORLD);
    assert.deepEqual(Object.keys(env).filter((k) => k.startsWith('OTEL_')), ['OTEL_EXPORTER_OTLP_ENDPOINT']);
    const port = Number(new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT!).port);
    assert.equal(port, cfg.sidecar.ports.otlp_http, 'one port for both: the gRPC exporter reaches the sidecar on its HTTP port');
    await startSidecar(sidecar, cfg.sidecar.ports.health, stops);

    const result = await runApp(app, 'http', { APP_TRACES_EXPORTER: 'grpc' });
    assert.deepEqual(result, { traces: 0, metrics: 0, errors: [] });
    await tracesCollector.waitUntil(() => tracesCollector.received.some((r) => r.signal === 'traces'), 10_000, 'the span over gRPC');
    await metricsCollector.waitUntil(() => metricsCollector.received.some((r) => r.signal === 'metrics'), 10_000, 'the metric over OTLP/HTTP');
    assert.ok(has(tracesCollector.received.find((r) => r.signal === 'traces')!, 'GET /cart'));
    assert.equal(metricsCollector.received.find((r) => r.signal === 'metrics')!.url, '/v1/metrics');
  });

  it('the injector names an exporter: traces go there, the metric still reaches the app’s collector (OTLP/HTTP exporters)', async () => {
    const collector = await new HttpSink().start(4318, undefined, '127.0.0.2');
    const gateway = await new HttpSink().start(0, undefined, '127.0.0.3');
    stops.push(() => collector.stop(), () => gateway.stop());
    const cfg = await injectorConfig({ traces_endpoint: `${gateway.url}/v1/traces` });
    const pod = appPod({
      name: 'cart',
      image: 'registry.example.com/shop/cart:3.1',
      env: [
        { name: 'OTEL_SERVICE_NAME', value: 'cart' },
        { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: 'http/protobuf' },
        { name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', value: 'http://$(HOST_IP):4318/v1/traces' },
        { name: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', value: 'http://$(HOST_IP):4318/v1/metrics' },
      ].map((e) => e as EnvVar),
    });
    // The node-local collector pattern: HOST_IP from the downward API, defined before its users.
    pod.spec!.containers![0]!.env!.unshift({ name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } });
    const { app, sidecar } = injected(pod, cfg);
    await startSidecar(sidecar, cfg.sidecar.ports.health, stops);

    const result = await runApp(app, 'http');
    assert.deepEqual(result, { traces: 0, metrics: 0, errors: [] });
    await gateway.waitUntil(() => gateway.received.some((r) => r.signal === 'traces'), 10_000, 'the span at the gateway');
    await collector.waitUntil(() => collector.received.some((r) => r.signal === 'metrics'), 10_000, "the metric at the app's collector");
    assert.ok(has(gateway.received.find((r) => r.signal === 'traces')!, 'GET /cart'));
    assert.ok(has(collector.received.find((r) => r.signal === 'metrics')!, 'app.requests'));
    assert.equal(collector.received.filter((r) => r.signal === 'traces').length, 0, 'traces go to the operator’s exporter only');
    assert.equal(collector.received.find((r) => r.signal === 'metrics')!.url, '/v1/metrics');
  });
});
