// The real OpenTelemetry JS SDK exporters (OTLP gRPC, HTTP/protobuf, HTTP/JSON) sending through a
// running sidecar service to a sink: every span arrives with its IDs, name, kind and attributes.
import assert from 'node:assert/strict';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { Service } from '../../../../sidecar/service/service.ts';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import { sinks, startService } from '../../../support/sink.ts';
import { testApp } from '../../../support/otel.ts';

const CONFIG = `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }
exporters:
  sink: {}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [sink] }
  telemetry: { metrics: { level: none } }
`;

describe('otlp receiver with the OpenTelemetry JS SDK exporters', () => {
  let svc: Service;
  let receiver: OtlpReceiver;

  beforeEach(async () => {
    svc = await startService(CONFIG);
    receiver = svc.receivers.get('otlp') as OtlpReceiver;
  });
  afterEach(() => svc.shutdown());

  const cases: [string, () => SpanExporter][] = [
    ['gRPC', () => new GrpcExporter({ url: `http://127.0.0.1:${receiver.grpc!.port}` })],
    ['gRPC with gzip', () => new GrpcExporter({ url: `http://127.0.0.1:${receiver.grpc!.port}`, compression: 'gzip' as never })],
    ['HTTP/protobuf', () => new ProtoExporter({ url: `http://127.0.0.1:${receiver.http!.port}/v1/traces` })],
    ['HTTP/protobuf with gzip', () => new ProtoExporter({ url: `http://127.0.0.1:${receiver.http!.port}/v1/traces`, compression: 'gzip' as never })],
    ['HTTP/JSON', () => new JsonExporter({ url: `http://127.0.0.1:${receiver.http!.port}/v1/traces` })],
  ];

  for (const [name, makeExporter] of cases) {
    it(`receives spans over ${name} with IDs, names, kinds, attributes and status intact`, async () => {
      const app = testApp(makeExporter(), 'checkout');
      const parent = app.tracer.startSpan('GET /cart', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 } });
      const parentCtx = parent.spanContext();
      const { trace, context } = await import('@opentelemetry/api');
      const child = app.tracer.startSpan('SELECT cart', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql' } }, trace.setSpan(context.active(), parent));
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'deadlock' });
      child.end();
      parent.end();
      await app.flush();
      await app.provider.shutdown();

      const sink = sinks.get('sink')!;
      await sink.waitForSpans(2);
      const spans = sink.spans();
      assert.equal(spans.length, 2);
      const server = spans.find((s) => s.span.name === 'GET /cart')!;
      const client = spans.find((s) => s.span.name === 'SELECT cart')!;
      assert.equal(Buffer.from(server.span.traceId!).toString('hex'), parentCtx.traceId);
      assert.equal(Buffer.from(server.span.spanId!).toString('hex'), parentCtx.spanId);
      assert.equal(Buffer.from(client.span.parentSpanId!).toString('hex'), parentCtx.spanId);
      assert.equal(server.span.kind, 2);
      assert.equal(client.span.kind, 3);
      assert.equal(client.span.status?.code, 2);
      assert.equal(client.span.status?.message, 'deadlock');
      const attr = (k: string) => server.span.attributes?.find((a) => a.key === k)?.value;
      assert.equal(attr('http.request.method')?.stringValue, 'GET');
      assert.equal(Number(attr('http.response.status_code')?.intValue), 200);
      assert.equal(server.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue, 'checkout');
      assert.ok(BigInt(server.span.endTimeUnixNano!) >= BigInt(server.span.startTimeUnixNano!));
    });
  }

  it('counts accepted spans per transport under the collector metric name', async () => {
    const app = testApp(new ProtoExporter({ url: `http://127.0.0.1:${receiver.http!.port}/v1/traces` }));
    app.tracer.startSpan('one').end();
    await app.flush();
    await app.provider.shutdown();
    await sinks.get('sink')!.waitForSpans(1);
    const text = svc.metrics.render();
    assert.match(text, /otelcol_receiver_accepted_spans_total\{receiver="otlp",transport="http"\} 1/);
  });
});
