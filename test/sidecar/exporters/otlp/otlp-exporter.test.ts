// The `otlp` exporter end to end: spans posted to a running sidecar (OTLP receiver) reach a real
// OTLP/gRPC backend on an ephemeral port, through outages, throttling, refusals and shutdown.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import type { Service } from '../../../../sidecar/service/service.ts';
import { deliveryRegistry, EXPORT_PATH, grpcExport, metricValue, post, traceRequest, withRealNetwork } from '../../../support/delivery.ts';
import { CountingProxy, freePort, GrpcSink } from '../../../support/otlp-sinks.ts';
import { startService } from '../../../support/sink.ts';
import { countSpans } from '../../../../sidecar/pdata/wire.ts';
import { PythonGrpcServer } from './testdata/python-server.ts';

function config(port: number, extra = ''): string {
  return `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }
exporters:
  otlp:
    endpoint: 127.0.0.1:${port}
    tls: { insecure: true }
    headers: { x-tenant: blue }
    timeout: 2s
    retry_on_failure: { initial_interval: 20ms, max_interval: 100ms, max_elapsed_time: 20s }
    sending_queue: { num_consumers: 2, queue_size: 100 }
${extra}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp] }
    metrics: { receivers: [otlp], exporters: [otlp] }
    logs: { receivers: [otlp], exporters: [otlp] }
  telemetry: { metrics: { level: none } }
`;
}

describe('otlp exporter (OTLP/gRPC) against a real backend', () => {
  withRealNetwork();
  let sink: GrpcSink;
  let svc: Service | undefined;
  let httpPort: number;
  let grpcPort: number;

  async function start(yaml: string): Promise<Service> {
    svc = await startService(yaml, {}, deliveryRegistry);
    const r = svc.receivers.get('otlp') as OtlpReceiver;
    httpPort = r.http!.port;
    grpcPort = r.grpc!.port;
    return svc;
  }

  const counter = (name: string) => metricValue(svc!.metrics.render(), name, { exporter: 'otlp' });

  beforeEach(async () => {
    sink = await new GrpcSink().start();
  });
  afterEach(async () => {
    await svc?.shutdown();
    svc = undefined;
    await sink.stop();
  });

  it('sends the received bytes unchanged (unknown fields too), gzip-compressed, with headers and its User-Agent', async () => {
    const proxy = await new CountingProxy(sink.port).start();
    try {
      await start(config(proxy.port));
      // An unknown top-level field (number 100, LEN) must survive the relay byte for byte; 400
      // spans of the same shape compress well, so gzip shows in the bytes on the wire.
      const body = Buffer.concat([traceRequest(400), Buffer.from([0xa2, 0x06, 0x03, 0x01, 0x02, 0x03])]);
      assert.equal((await post(httpPort, '/v1/traces', body)).status, 200);
      await sink.waitForRequests(1);
      const got = sink.received[0]!;
      assert.equal(got.signal, 'traces');
      assert.deepEqual(got.bytes, body);
      assert.equal(got.headers['x-tenant'], 'blue');
      assert.match(got.headers['user-agent'] ?? '', /^tracebridge\/\d+\.\d+\.\d+ \(otlp\)/);
      await sink.waitUntil(() => counter('otelcol_exporter_sent_spans_total') === 400, 2000, 'sent counter');
      assert.ok(proxy.bytesUp < body.length / 2, `${proxy.bytesUp} bytes on the wire for a ${body.length}-byte request`);
    } finally {
      await proxy.stop();
    }
  });

  it('passes OTLP metrics and logs through byte for byte, over gRPC and HTTP', async () => {
    await start(config(sink.port));
    const metrics = Buffer.from('0a0b0a09120774657374696e67', 'hex');
    const logs = Buffer.from('0a0512030a0178', 'hex');
    const viaGrpc = await grpcExport(grpcPort, EXPORT_PATH.metrics, metrics);
    assert.ok(Buffer.isBuffer(viaGrpc), String(viaGrpc));
    assert.equal((await post(httpPort, '/v1/logs', logs)).status, 200);
    await sink.waitForRequests(2);
    const bySignal = Object.fromEntries(sink.received.map((r) => [r.signal, r.bytes]));
    assert.deepEqual(bySignal.metrics, metrics);
    assert.deepEqual(bySignal.logs, logs);
  });

  it('delivers everything accepted while the backend was down, once it comes up', async () => {
    await sink.stop();
    const port = await freePort();
    await start(config(port));
    for (let i = 0; i < 5; i++) assert.equal((await post(httpPort, '/v1/traces', traceRequest(2))).status, 200);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(counter('tracebridge_exporter_send_retries_total') > 0, 'sends were retried while the backend was down');
    sink = await new GrpcSink().start(port);
    await sink.waitUntil(() => counter('otelcol_exporter_sent_spans_total') >= 10, 10_000, '10 spans sent');
    assert.equal(sink.spansReceived(), 10);
    assert.equal(counter('otelcol_exporter_sent_spans_total'), 10);
    assert.equal(counter('otelcol_exporter_send_failed_spans_total'), 0);
  });

  it('waits as long as RESOURCE_EXHAUSTED with RetryInfo asks, then retries', async () => {
    await start(config(sink.port));
    sink.script = [{ kind: 'grpc-error', code: grpc.status.RESOURCE_EXHAUSTED, message: 'slow down', retryInfoMs: 400 }];
    await post(httpPort, '/v1/traces', traceRequest(1));
    await sink.waitForRequests(2);
    const [first, second] = sink.received;
    assert.ok(second!.at - first!.at >= 395, `retried after ${second!.at - first!.at}ms, RetryInfo said 400ms`);
    assert.deepEqual(second!.bytes, first!.bytes);
  });

  it('does not retry permanent errors (INVALID_ARGUMENT, RESOURCE_EXHAUSTED without RetryInfo) and counts them', async () => {
    await start(config(sink.port));
    sink.script = [
      { kind: 'grpc-error', code: grpc.status.INVALID_ARGUMENT, message: 'bad span' },
      { kind: 'grpc-error', code: grpc.status.RESOURCE_EXHAUSTED, message: 'quota gone' },
    ];
    await post(httpPort, '/v1/traces', traceRequest(2));
    await sink.waitForRequests(1);
    await post(httpPort, '/v1/traces', traceRequest(3));
    await sink.waitUntil(() => counter('otelcol_exporter_send_failed_spans_total') === 5, 3000, 'failed counter');
    await new Promise((r) => setTimeout(r, 150)); // several retry intervals: nothing more may arrive
    assert.equal(sink.received.length, 2);
    assert.equal(counter('tracebridge_exporter_send_retries_total'), 0);
  });

  it('retries UNAVAILABLE and counts a partial success', async () => {
    await start(config(sink.port));
    sink.script = [{ kind: 'grpc-error', code: grpc.status.UNAVAILABLE }, { kind: 'ok', rejected: 2, message: 'spans too old' }];
    await post(httpPort, '/v1/traces', traceRequest(5));
    await sink.waitUntil(() => counter('otelcol_exporter_sent_spans_total') === 3, 3000, 'sent counter');
    assert.equal(sink.received.length, 2);
    assert.equal(counter('otelcol_exporter_send_failed_spans_total'), 2);
  });

  it('answers UNAVAILABLE / 503 upstream when its queue is full, and counts the refused spans', async () => {
    await start(config(sink.port).replace('sending_queue: { num_consumers: 2, queue_size: 100 }', 'sending_queue: { num_consumers: 1, queue_size: 2 }'));
    sink.fallback = { kind: 'hang' };
    assert.equal((await post(httpPort, '/v1/traces', traceRequest(1))).status, 200); // in flight
    await sink.waitForRequests(1);
    assert.equal((await post(httpPort, '/v1/traces', traceRequest(1))).status, 200); // queued
    assert.equal((await post(httpPort, '/v1/traces', traceRequest(1))).status, 200); // queued
    const http = await post(httpPort, '/v1/traces', traceRequest(4));
    assert.equal(http.status, 503);
    assert.ok(Number(http.headers['retry-after']) >= 1);
    const viaGrpc = await grpcExport(grpcPort, EXPORT_PATH.traces, traceRequest(3));
    assert.ok(!Buffer.isBuffer(viaGrpc));
    assert.equal(viaGrpc.code, grpc.status.UNAVAILABLE);
    assert.equal(counter('otelcol_exporter_enqueue_failed_spans_total'), 7);
    const text = svc!.metrics.render();
    assert.equal(metricValue(text, 'otelcol_receiver_refused_spans_total', { receiver: 'otlp', transport: 'http' }), 4);
    assert.equal(counter('otelcol_exporter_queue_size'), 2);
    sink.fallback = { kind: 'ok' };
    sink.releaseHung();
    await sink.waitUntil(() => sink.spansReceived() >= 3, 5000, '3 spans');
  });

  it('delivers every accepted span to a slow backend before shutdown resolves', async () => {
    await start(config(sink.port));
    sink.fallback = { kind: 'ok', delayMs: 60 };
    for (let i = 0; i < 12; i++) assert.equal((await post(httpPort, '/v1/traces', traceRequest(2))).status, 200);
    await svc!.shutdown();
    assert.equal(sink.spansReceived(), 24);
    assert.equal(counter('otelcol_exporter_sent_spans_total'), 24);
  });

  it('a gRPC C-core backend restarting gracefully (GOAWAY) under traffic loses nothing: every span arrives once, after it is back', async () => {
    let py = await new PythonGrpcServer().start();
    const port = py.port;
    const servers = [py];
    try {
      // Each call takes 200 ms: the stop finds calls in flight.
      await start(config(port).replace('x-tenant: blue', 'x-reply: slow'));
      const spansAt = () => servers.reduce((n, s) => n + s.calls.reduce((m, c) => m + countSpans(c.bytes), 0), 0);
      let posted = 0;
      const postSome = async (n: number) => {
        for (let i = 0; i < n; i++) {
          assert.equal((await post(httpPort, '/v1/traces', traceRequest(3))).status, 200);
          posted += 3;
        }
      };
      await postSome(10);
      await sink.waitUntil(() => py.calls.length > 0, 5000, 'a call in flight');
      const stopping = py.stop(); // GOAWAY, 2 s grace for calls in flight, then gone
      await postSome(10);
      await stopping;
      // What this checks is the exporter; a grpcio that has to be killed after its grace is noted.
      if (py.killed) process.stdout.write('      (grpcio had not exited 10 s after SIGTERM: killed)\n');
      await postSome(5); // accepted while no backend listens
      py = await new PythonGrpcServer().start({ port });
      servers.push(py);
      await postSome(5);
      await sink.waitUntil(() => counter('otelcol_exporter_sent_spans_total') >= posted, 15_000, `${posted} spans sent`);
      assert.equal(spansAt(), posted);
      assert.equal(counter('otelcol_exporter_send_failed_spans_total'), 0);
    } finally {
      for (const s of servers) await s.stop();
    }
    // Each wait above is bounded (the servers' start and stop, the delivery) and fails naming what
    // it waited for; their sum, not mocha, is the limit.
  }).timeout(60_000);
});
