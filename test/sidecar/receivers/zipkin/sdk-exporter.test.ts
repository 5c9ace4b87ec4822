// The OpenTelemetry JS Zipkin exporter sending through a running sidecar service to the sink:
// IDs, parent, kind, attributes, status, events and service.name arrive as the collector maps them.
import assert from 'node:assert/strict';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { testApp } from '../../../support/otel.ts';
import type { KeyValue } from '../../../../sidecar/pdata/otlp-schema.ts';
import { startZipkin, zipkinConfig, type Running } from './service.ts';

const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');
const attr = (attrs: KeyValue[] | undefined, key: string) => attrs?.find((a) => a.key === key)?.value;

describe('zipkin receiver with the OpenTelemetry JS Zipkin exporter', () => {
  let run: Running;
  afterEach(() => run.svc.shutdown());

  it('receives spans with IDs, parent, kind, attributes, status, events and service.name', async () => {
    run = await startZipkin();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'checkout', 'service.version': '1.4.2', 'k8s.pod.name': 'checkout-7d9f-x2' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter: new ZipkinExporter({ url: run.url }) })],
    });
    const app = { tracer: provider.getTracer('test-app'), provider, flush: () => provider.forceFlush() };
    const parent = app.tracer.startSpan('GET /cart', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 } });
    const child = app.tracer.startSpan('SELECT cart', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql' } }, trace.setSpan(context.active(), parent));
    child.addEvent('retry');
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'deadlock' });
    child.end();
    const internal = app.tracer.startSpan('render', { kind: SpanKind.INTERNAL }, trace.setSpan(context.active(), parent));
    internal.setStatus({ code: SpanStatusCode.OK });
    internal.end();
    parent.end();
    await app.flush();
    await app.provider.shutdown();

    await run.sink.waitForSpans(3);
    const spans = run.sink.spans();
    assert.equal(spans.length, 3);
    const server = spans.find((s) => s.span.name === 'GET /cart')!;
    const client = spans.find((s) => s.span.name === 'SELECT cart')!;
    const render = spans.find((s) => s.span.name === 'render')!;
    const pc = parent.spanContext();

    assert.equal(hex(server.span.traceId), pc.traceId);
    assert.equal(hex(server.span.spanId), pc.spanId);
    assert.equal(server.span.parentSpanId?.length ?? 0, 0, 'root has no parent');
    assert.equal(hex(client.span.traceId), pc.traceId);
    assert.equal(hex(client.span.spanId), child.spanContext().spanId);
    assert.equal(hex(client.span.parentSpanId), pc.spanId);

    assert.equal(server.span.kind, 2);
    assert.equal(client.span.kind, 3);
    // The exporter writes no kind for INTERNAL; the collector then leaves the kind UNSPECIFIED.
    assert.equal(render.span.kind ?? 0, 0);

    // Tags are strings (parse_string_tags is off by default, as in the collector).
    assert.equal(attr(server.span.attributes, 'http.request.method')?.stringValue, 'GET');
    assert.equal(attr(server.span.attributes, 'http.response.status_code')?.stringValue, '200');
    assert.equal(attr(client.span.attributes, 'db.system')?.stringValue, 'postgresql');

    assert.equal(client.span.status?.code, 2);
    assert.equal(client.span.status?.message, 'deadlock');
    assert.equal(render.span.status?.code, 1);
    assert.equal(server.span.status?.code ?? 0, 0);
    assert.equal(attr(client.span.attributes, 'otel.status_code'), undefined, 'status tags are consumed');

    assert.deepEqual(client.span.events?.map((e) => e.name), ['retry']);

    // Resource tags the exporter copies into every span go back to the resource.
    assert.equal(attr(server.resource?.attributes, 'service.name')?.stringValue, 'checkout');
    assert.equal(attr(server.resource?.attributes, 'service.version')?.stringValue, '1.4.2');
    assert.equal(attr(server.resource?.attributes, 'k8s.pod.name')?.stringValue, 'checkout-7d9f-x2');
    for (const key of ['service.name', 'service.version', 'k8s.pod.name']) assert.equal(attr(server.span.attributes, key), undefined, key);
    assert.equal(run.sink.batches.reduce((n, b) => n + (b.toObjects().resourceSpans?.length ?? 0), 0), run.sink.batches.length, 'one resource per request');

    // Microseconds to nanoseconds: start within 1 µs of the SDK's, end after start.
    const start = BigInt(server.span.startTimeUnixNano!);
    assert.ok(start > 1_600_000_000_000_000_000n, `start ${start} is epoch nanoseconds`);
    assert.ok(BigInt(server.span.endTimeUnixNano!) >= start);
  });

  it('counts accepted spans under the collector metric name with the http_v2_json transport', async () => {
    run = await startZipkin(zipkinConfig());
    const app = testApp(new ZipkinExporter({ url: run.url }), 'cart');
    app.tracer.startSpan('one').end();
    app.tracer.startSpan('two').end();
    await app.flush();
    await app.provider.shutdown();
    await run.sink.waitForSpans(2);
    const text = run.svc.metrics.render();
    assert.match(text, /otelcol_receiver_accepted_spans_total\{[^}]*receiver="zipkin"[^}]*transport="http_v2_json"[^}]*\} 2/);
  });
});
