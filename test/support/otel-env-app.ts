// An app as the OpenTelemetry JS SDK runs it in a pod: its exporters are built in code without
// options, so where they send comes only from the OTEL_EXPORTER_OTLP_* env the process was given.
// APP_EXPORTER picks the exporter built in code (`grpc`, or `http` for OTLP/HTTP protobuf), as an
// app's source does. Sends one span and one metric point, then prints the two export results as
// JSON on stdout (`{"traces":0,"metrics":0}`, 0 = SUCCESS) and exits.
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { SimpleSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import type { ExportResult } from '@opentelemetry/core';

// APP_TRACES_EXPORTER / APP_METRICS_EXPORTER choose per signal (an app may build each differently).
const grpcFor = (signal: 'TRACES' | 'METRICS') => (process.env[`APP_${signal}_EXPORTER`] ?? process.env.APP_EXPORTER) === 'grpc';
const results: { traces?: number; metrics?: number; errors: string[] } = { errors: [] };

const traceExporter: SpanExporter = grpcFor('TRACES') ? new GrpcTraceExporter() : new ProtoTraceExporter();
const recordingTraces: SpanExporter = {
  export(spans: ReadableSpan[], done: (r: ExportResult) => void) {
    traceExporter.export(spans, (r) => {
      results.traces = r.code;
      if (r.error) results.errors.push(`traces: ${r.error.message}`);
      done(r);
    });
  },
  shutdown: () => traceExporter.shutdown(),
  forceFlush: () => traceExporter.forceFlush?.() ?? Promise.resolve(),
};
const metricExporter: PushMetricExporter = grpcFor('METRICS') ? new GrpcMetricExporter() : new ProtoMetricExporter();
const recordingMetrics: PushMetricExporter = {
  export(metrics: ResourceMetrics, done: (r: ExportResult) => void) {
    metricExporter.export(metrics, (r) => {
      results.metrics = r.code;
      if (r.error) results.errors.push(`metrics: ${r.error.message}`);
      done(r);
    });
  },
  forceFlush: () => metricExporter.forceFlush(),
  shutdown: () => metricExporter.shutdown(),
  selectAggregationTemporality: metricExporter.selectAggregationTemporality?.bind(metricExporter),
};

const resource = resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? 'env-app' });
const tracerProvider = new TracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor({ exporter: recordingTraces })] });
const reader = new PeriodicExportingMetricReader({ exporter: recordingMetrics, exportIntervalMillis: 600_000 });
const meterProvider = new MeterProvider({ resource, readers: [reader] });

tracerProvider.getTracer('env-app').startSpan(process.env.APP_SPAN_NAME ?? 'GET /cart').end();
meterProvider.getMeter('env-app').createCounter('app.requests').add(3, { route: '/cart' });
await tracerProvider.forceFlush();
await reader.forceFlush();
process.stdout.write(`${JSON.stringify(results)}\n`);
await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
process.exit(0);
