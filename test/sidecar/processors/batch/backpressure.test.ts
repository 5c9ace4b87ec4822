// The batch processor never acknowledges what it cannot hand on: when the exporter's queue is full
// the receiver answers 503 with Retry-After, and every request that was answered 200 is delivered
// once the backend is back.
import assert from 'node:assert/strict';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import type { Service } from '../../../../sidecar/service/service.ts';
import { deliveryRegistry, metricValue, post, traceRequest, withRealNetwork } from '../../../support/delivery.ts';
import { HttpSink } from '../../../support/otlp-sinks.ts';
import { startService } from '../../../support/sink.ts';

function config(url: string): string {
  return `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
processors:
  batch: { send_batch_size: 100, timeout: 20ms }
exporters:
  otlphttp:
    endpoint: ${url}
    compression: none
    sending_queue: { num_consumers: 1, queue_size: 2 }
    retry_on_failure: { initial_interval: 20ms, max_interval: 50ms }
service:
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [otlphttp] }
  telemetry: { metrics: { level: none } }
`;
}

describe('batch processor back-pressure', function () {
  this.timeout(30_000);
  withRealNetwork();
  let svc: Service | undefined;
  let sink: HttpSink;

  beforeEach(async () => {
    sink = await new HttpSink().start();
  });
  afterEach(async () => {
    await svc?.shutdown();
    svc = undefined;
    await sink.stop();
  });

  it('refuses with 503 + Retry-After while the exporter queue is full and delivers every acknowledged span', async () => {
    svc = await startService(config(sink.url), {}, deliveryRegistry);
    const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
    // The backend stalls: the one consumer hangs on its first send, the queue fills behind it.
    sink.fallback = { kind: 'hang' };
    let acknowledged = 0;
    let refused = 0;
    for (let i = 0; i < 20; i++) {
      const res = await post(port, '/v1/traces', traceRequest(100));
      if (res.status === 200) acknowledged += 100;
      else {
        assert.equal(res.status, 503, res.body.toString());
        assert.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After tells the client when to come back');
        refused += 100;
      }
      await new Promise((r) => setTimeout(r, 30));
    }
    assert.ok(refused > 0, 'a full exporter must push back on the sender');
    sink.fallback = { kind: 'ok' };
    sink.releaseHung();
    await sink.waitUntil(() => sink.spansReceived() >= acknowledged, 10_000, `${acknowledged} spans`);
    await svc.shutdown();
    // The hung first request was recorded by the sink too, then answered: count distinct spans.
    assert.equal(sink.spansReceived(), acknowledged);
    assert.equal(metricValue(svc.metrics.render(), 'tracebridge_processor_batch_dropped_spans_total', { processor: 'batch', pipeline: 'traces' }), 0);
  });
});
