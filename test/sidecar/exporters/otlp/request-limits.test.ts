// Requests over a backend's size limit are split, never dropped: the `otlp` exporter against a
// gateway with the collector's default 4 MiB gRPC receive limit (grpc-js refuses larger messages
// with RESOURCE_EXHAUSTED and no RetryInfo), and `otlphttp` against a backend answering 413.
import assert from 'node:assert/strict';
import { countSpans } from '../../../../sidecar/pdata/wire.ts';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import type { Service } from '../../../../sidecar/service/service.ts';
import { deliveryRegistry, metricValue, post, withRealNetwork } from '../../../support/delivery.ts';
import { GrpcSink, HttpSink } from '../../../support/otlp-sinks.ts';
import { startService } from '../../../support/sink.ts';
import { envoyRequest } from '../../../support/spans.ts';

function config(exporter: string, extra = ''): string {
  return `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
processors:
  batch: { send_batch_size: 8192, timeout: 200ms }
exporters:
${exporter}
service:
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [${exporter.trim().split(':')[0]}] }
  telemetry: { metrics: { level: none } }
${extra}`;
}

describe('exporters split requests over the backend limit', function () {
  this.timeout(30_000);
  withRealNetwork();
  let svc: Service | undefined;

  afterEach(async () => {
    await svc?.shutdown();
    svc = undefined;
  });

  it('otlp: three concurrent 1.4 MB requests reach a collector with the default 4 MiB limit (4,200 spans, none dropped)', async () => {
    const sink = await new GrpcSink().start();
    try {
      svc = await startService(config(`  otlp:\n    endpoint: 127.0.0.1:${sink.port}\n    tls: { insecure: true }\n    retry_on_failure: { initial_interval: 20ms, max_interval: 100ms }`), {}, deliveryRegistry);
      const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
      const bodies = [envoyRequest(1400), envoyRequest(1400), envoyRequest(1400)];
      const sizes = bodies.map((b) => b.length);
      assert.ok(sizes.every((n) => n > 1_400_000) && sizes.reduce((a, b) => a + b) > 4 * 1024 * 1024);
      const answers = await Promise.all(bodies.map((b) => post(port, '/v1/traces', b)));
      assert.deepEqual(answers.map((a) => a.status), [200, 200, 200]);
      await svc.shutdown();
      assert.equal(sink.spansReceived(), 4200);
      for (const r of sink.received) assert.ok(r.bytes.length <= 4 * 1024 * 1024);
      assert.equal(metricValue(svc.metrics.render(), 'otelcol_exporter_send_failed_spans_total', { exporter: 'otlp' }), 0);
    } finally {
      await sink.stop();
    }
  });

  it('otlp: with no request cap, a batch refused with RESOURCE_EXHAUSTED "larger than max" is re-sent in parts under the limit the server named', async () => {
    const sink = await new GrpcSink().start();
    try {
      svc = await startService(config(`  otlp:\n    endpoint: 127.0.0.1:${sink.port}\n    tls: { insecure: true }\n    max_request_bytes: 0\n    retry_on_failure: { initial_interval: 20ms, max_interval: 100ms }`), {}, deliveryRegistry);
      const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
      const answers = await Promise.all([envoyRequest(2500), envoyRequest(2500)].map((b) => post(port, '/v1/traces', b)));
      assert.deepEqual(answers.map((a) => a.status), [200, 200]);
      await svc.shutdown();
      assert.equal(sink.spansReceived(), 5000);
      assert.equal(metricValue(svc.metrics.render(), 'otelcol_exporter_send_failed_spans_total', { exporter: 'otlp' }), 0);
    } finally {
      await sink.stop();
    }
  });

  it('otlphttp: a backend answering 413 for bodies over 1 MB gets the batch in halves until each fits', async () => {
    const sink = await new HttpSink().start();
    sink.maxBodyBytes = 1_000_000;
    try {
      svc = await startService(config(`  otlphttp:\n    endpoint: ${sink.url}\n    retry_on_failure: { initial_interval: 20ms, max_interval: 100ms }`), {}, deliveryRegistry);
      const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
      assert.equal((await post(port, '/v1/traces', envoyRequest(3000))).status, 200);
      await svc.shutdown();
      assert.ok(sink.refusedTooLarge > 0, 'the backend did refuse the first attempt');
      assert.equal(sink.spansReceived(), 3000);
      for (const r of sink.received) assert.ok(countSpans(r.bytes) > 0 && r.bytes.length <= 1_000_000);
    } finally {
      await sink.stop();
    }
  });

  it('otlphttp: max_request_spans and max_request_bytes cap each request before it is sent', async () => {
    const sink = await new HttpSink().start();
    try {
      svc = await startService(config(`  otlphttp:\n    endpoint: ${sink.url}\n    max_request_spans: 500\n    max_request_bytes: 300000`), {}, deliveryRegistry);
      const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
      assert.equal((await post(port, '/v1/traces', envoyRequest(2000))).status, 200);
      await svc.shutdown();
      assert.equal(sink.spansReceived(), 2000);
      for (const r of sink.received) assert.ok(countSpans(r.bytes) <= 500 && r.bytes.length <= 300_000, `${countSpans(r.bytes)} spans, ${r.bytes.length} bytes`);
    } finally {
      await sink.stop();
    }
  });
});
