// The health-check preset end to end: the shipped mesh-configs/examples/filter-healthchecks.yaml,
// loaded by a real sidecar process (tracebridge-sidecar --config <preset> --config <test ports>),
// spans from the OpenTelemetry JS SDK's OTLP exporter, an OTLP/HTTP backend behind it. Probe and
// health-endpoint spans never reach the backend; the others arrive byte for byte (unknown fields
// too); span events go by a spanevent condition; error_mode: propagate refuses with a status.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { decodeTraceRequest } from '../../../../sidecar/pdata/otlp-schema.ts';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';
import { TAG_SPAN_EVENTS } from '../../../../sidecar/pdata/fields.ts';
import { WireReader } from '../../../../sidecar/pdata/wire.ts';
import { EXPORT_PATH, grpcExport, metricValue, post, withRealNetwork } from '../../../support/delivery.ts';
import { testApp } from '../../../support/otel.ts';
import { freePort, HttpSink } from '../../../support/otlp-sinks.ts';
import { startProcess, type Running } from '../../../support/process.ts';
import { cat, len, spanPayload, traceRequest, vint } from '../../pdata/framing.ts';

const PRESET = 'mesh-configs/examples/filter-healthchecks.yaml';
const MAIN = 'sidecar/main.ts';

/** Every span a batch of requests holds: name and payload bytes. */
function spansOf(requests: readonly Buffer[]): { name: string; bytes: Buffer }[] {
  return requests.flatMap((bytes) => {
    const d = TracesData.fromProto(bytes);
    const names = decodeTraceRequest(bytes).resourceSpans!.flatMap((rs) => rs.scopeSpans!.flatMap((ss) => ss.spans!.map((s) => s.name ?? '')));
    return names.map((name, k) => ({ name, bytes: Buffer.from(d.bytes.subarray(d.view.spanStart(k), d.view.spanEnd(k))) }));
  });
}

/** A span payload without its events fields. */
function withoutEvents(span: Buffer): Buffer {
  const parts: Buffer[] = [];
  const r = new WireReader(span);
  while (r.pos < span.length) {
    const start = r.pos;
    const tag = r.tag();
    r.skip(tag & 7);
    if (tag !== TAG_SPAN_EVENTS) parts.push(span.subarray(start, r.pos));
  }
  return Buffer.concat(parts);
}

/** Records what the SDK hands its exporter (the exporter serializes the same spans the same way), then exports. */
class Tee implements SpanExporter {
  readonly spans: ReadableSpan[] = [];
  private readonly inner: SpanExporter;
  constructor(inner: SpanExporter) {
    this.inner = inner;
  }
  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.spans.push(...spans);
    this.inner.export(spans, done);
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

describe('filter processor end to end: the health-check preset in a running sidecar', function () {
  this.timeout(30_000);
  withRealNetwork();
  let sink: HttpSink;
  let proc: Running | undefined;
  const ports = { grpc: 0, http: 0, zipkin: 0, metrics: 0 };

  before(async () => {
    sink = await new HttpSink().start();
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'tb-filter-'));
    const overlay = join(dir, 'test-ports.yaml');
    // Maps merge and lists are replaced: the preset as shipped, on free ports, plus two filters
    // of the test's own in the pipeline.
    writeFileSync(
      overlay,
      `receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:${ports.grpc} }, http: { endpoint: 127.0.0.1:${ports.http} } } }
  zipkin: { endpoint: 127.0.0.1:${ports.zipkin} }
processors:
  batch: { timeout: 10ms }
  filter/events:
    traces: { spanevent: ['name == "exception" and attributes["exception.type"] == "HealthCheckTimeout"'] }
  filter/strict:
    error_mode: propagate
    traces: { span: ['attributes["tb.test.route"]["x"] == "y"'] }
service:
  pipelines:
    traces: { processors: [memory_limiter, filter/healthchecks, filter/events, filter/strict, batch] }
  telemetry: { metrics: { address: 127.0.0.1:${ports.metrics} } }
`,
    );
    proc = startProcess(MAIN, ['--config', PRESET, '--config', overlay], { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${sink.url}/v1/traces`, TRACEBRIDGE_CONFIG: undefined });
    await proc.waitFor(/tracebridge sidecar running/);
  });

  after(async () => {
    proc?.child.kill('SIGTERM');
    await proc?.exited;
    await sink.stop();
  });

  it('drops kube-probe, ELB health checker and /healthz-/readyz-/metrics spans; the rest arrive as the SDK sent them', async () => {
    const tee = new Tee(new OTLPTraceExporter({ url: `http://127.0.0.1:${ports.http}/v1/traces` }));
    const app = testApp(tee);
    const server = { kind: SpanKind.SERVER };
    app.tracer.startSpan('GET /healthz', { ...server, attributes: { 'user_agent.original': 'kube-probe/1.30', 'url.path': '/healthz', 'http.request.method': 'GET' } }).end();
    app.tracer.startSpan('GET /ready', { ...server, attributes: { 'http.user_agent': 'kube-probe/1.29', 'http.target': '/ready' } }).end();
    app.tracer.startSpan('GET', { ...server, attributes: { 'http.user_agent': 'ELB-HealthChecker/2.0', 'http.target': '/' } }).end();
    app.tracer.startSpan('GET /readyz', { ...server, attributes: { 'http.target': '/readyz?verbose=1' } }).end();
    app.tracer.startSpan('GET /livez/ping', { ...server, attributes: { 'url.path': '/livez/ping' } }).end();
    app.tracer.startSpan('GET metrics', { kind: SpanKind.CLIENT, attributes: { 'url.full': 'http://10.0.0.7:9090/metrics' } }).end();
    const orders = app.tracer.startSpan('GET /orders', { ...server, attributes: { 'user_agent.original': 'Mozilla/5.0', 'url.path': '/orders', 'http.response.status_code': 200 } });
    orders.addEvent('exception', { 'exception.type': 'HealthCheckTimeout' });
    orders.addEvent('cache-miss', { key: 'orders:42' });
    orders.end();
    app.tracer.startSpan('GET /healthz-report', { ...server, attributes: { 'url.path': '/healthz-report', 'user_agent.original': 'curl/8.5.0' } }).end();
    await app.flush();
    await app.provider.shutdown();

    await sink.waitUntil(() => sink.spansReceived() >= 2, 8000, 'the kept spans');
    const got = spansOf(sink.received.map((r) => r.bytes));
    assert.deepEqual(
      got.map((s) => s.name),
      ['GET /orders', 'GET /healthz-report'],
    );
    // What the SDK sent, serialized as its exporter does.
    const sent = spansOf([Buffer.from(ProtobufTraceSerializer.serializeRequest(tee.spans)!)]);
    assert.deepEqual(got[1]!.bytes, sent.find((s) => s.name === 'GET /healthz-report')!.bytes, 'byte for byte');
    const orderSpan = decodeTraceRequest(sink.received[0]!.bytes).resourceSpans![0]!.scopeSpans![0]!.spans!.find((s) => s.name === 'GET /orders')!;
    assert.deepEqual(
      orderSpan.events!.map((e) => e.name),
      ['cache-miss'],
    );
    const sentOrders = sent.find((s) => s.name === 'GET /orders')!.bytes;
    assert.deepEqual(withoutEvents(got[0]!.bytes), withoutEvents(sentOrders), 'every other field byte for byte');
    assert.ok(got[0]!.bytes.length < sentOrders.length);

    const metrics = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
    assert.equal(metricValue(metrics, 'otelcol_processor_filter_spans_filtered_total', { pipeline: 'traces', processor: 'filter/healthchecks' }), 6);
    assert.equal(metricValue(metrics, 'tracebridge_processor_filter_span_events_filtered_total', { pipeline: 'traces', processor: 'filter/events' }), 1);
  });

  it('keeps unknown fields of a kept span and drops Envoy spans of a kubelet probe and of the Istio stats listener, in one request', async () => {
    const before = sink.received.length;
    const tag = (k: string, v: string) => len(9, cat(len(1, k), len(2, len(1, v))));
    const unknown = cat(vint(90, 7), len(92, 'a field from a newer OTLP'));
    const kept = spanPayload(tag('user_agent', 'Go-http-client/1.1'), tag('http.url', 'http://cart:8080/cart?id=7'), tag('upstream_cluster', 'outbound|8080||cart.shop.svc.cluster.local'), unknown);
    const probe = spanPayload(tag('user_agent', 'kube-probe/1.30'), tag('http.url', 'http://10.1.2.3:8080/healthz'));
    const istioStats = spanPayload(tag('user_agent', 'Prometheus/2.53.0'), tag('http.url', 'http://10.1.2.3:15090/stats/prometheus'), tag('upstream_cluster', 'prometheus_stats'));
    const res = await post(ports.http, '/v1/traces', traceRequest({ spans: [probe, kept, istioStats] }));
    assert.equal(res.status, 200);
    await sink.waitUntil(() => sink.received.length > before, 8000, 'the kept span');
    const got = spansOf(sink.received.slice(before).map((r) => r.bytes));
    assert.deepEqual(
      got.map((s) => s.bytes),
      [kept],
    );
  });

  it('error_mode: propagate refuses a batch whose condition fails, with 400 / INVALID_ARGUMENT naming the condition', async () => {
    const bad = traceRequest({ spans: [spanPayload(len(9, cat(len(1, 'tb.test.route'), len(2, len(1, '/orders')))))] });
    const res = await post(ports.http, '/v1/traces', bad);
    assert.equal(res.status, 400);
    assert.match(res.body.toString('latin1'), /filter\/strict: condition traces\.span\[0\].*type Str does not support string indexing/);
    const err = await grpcExport(ports.grpc, EXPORT_PATH.traces, bad);
    if (Buffer.isBuffer(err)) assert.fail('expected the gRPC call to be refused');
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /error_mode: propagate refuses the batch/);
  });
});
