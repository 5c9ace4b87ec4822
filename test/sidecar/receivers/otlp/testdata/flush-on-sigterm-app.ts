// An app as the OpenTelemetry JS SDK runs it: a BatchSpanProcessor that exports nothing on its own
// for a minute, and a SIGTERM handler that ends the work in progress (50 more spans), then shuts
// the provider down, which flushes every span to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT over gRPC.
// APP_FLUSH_DELAY_MS: time the app takes to finish its work after SIGTERM before flushing.
// Prints `ready`, then on SIGTERM `{"flushMs":…,"result":"ok"|"failed: …"}`.
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

const exporter = new OTLPTraceExporter();
let result = 'ok';
const recording = {
  export: (spans: Parameters<typeof exporter.export>[0], done: Parameters<typeof exporter.export>[1]) =>
    exporter.export(spans, (r) => {
      if (r.error !== undefined) result = `failed: ${r.error.message}`;
      done(r);
    }),
  shutdown: () => exporter.shutdown(),
  forceFlush: () => exporter.forceFlush(),
};
const provider = new TracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'checkout' }),
  spanProcessors: [new BatchSpanProcessor({ exporter: recording, scheduledDelayMillis: 60_000, maxExportBatchSize: 512 })],
});
const tracer = provider.getTracer('app');
for (let i = 0; i < 50; i++) tracer.startSpan(`GET /cart ${i}`).end();

process.once('SIGTERM', () => {
  const t0 = Date.now();
  setTimeout(
    () => {
      for (let i = 50; i < 100; i++) tracer.startSpan(`GET /cart ${i}`).end();
      void provider
        .shutdown()
        .catch((err: unknown) => (result = `failed: ${String(err)}`))
        .then(() => {
        process.stdout.write(`${JSON.stringify({ flushMs: Date.now() - t0, result })}\n`);
        process.exit(0);
      });
    },
    Number(process.env.APP_FLUSH_DELAY_MS ?? 0),
  );
});
process.stdout.write('ready\n');
setInterval(() => undefined, 60_000);
