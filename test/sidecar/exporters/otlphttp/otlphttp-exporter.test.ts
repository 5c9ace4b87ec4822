// The `otlphttp` exporter end to end: spans posted to a running sidecar reach a real OTLP/HTTP
// backend on an ephemeral port, as protobuf or OTLP/JSON, through outages, throttling and refusals.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeTraceRequest } from '../../../../sidecar/pdata/otlp-schema.ts';
import { traceRequestJsonToProto } from '../../../../sidecar/pdata/otlp-json.ts';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import type { Service } from '../../../../sidecar/service/service.ts';
import { deliveryRegistry, metricValue, post, traceRequest, withRealNetwork } from '../../../support/delivery.ts';
import { freePort, HttpSink } from '../../../support/otlp-sinks.ts';
import { startService } from '../../../support/sink.ts';

/** The exporters' TLS test certificates (a CA and a server certificate for 127.0.0.1). */
const TLS_DIR = new URL('../internal/testdata/tls/', import.meta.url);

function config(exporter: string): string {
  return `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
exporters:
  otlphttp:
${exporter
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
    retry_on_failure: { initial_interval: 20ms, max_interval: 100ms, max_elapsed_time: 20s }
    sending_queue: { num_consumers: 1 }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [otlphttp] }
    metrics: { receivers: [otlp], exporters: [otlphttp] }
    logs: { receivers: [otlp], exporters: [otlphttp] }
  telemetry: { metrics: { level: none } }
`;
}

describe('otlphttp exporter against a real backend', () => {
  withRealNetwork();
  let sink: HttpSink;
  let svc: Service | undefined;
  let port: number;

  async function start(exporter: string): Promise<void> {
    svc = await startService(config(exporter), {}, deliveryRegistry);
    port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
  }

  const counter = (name: string) => metricValue(svc!.metrics.render(), name, { exporter: 'otlphttp' });

  beforeEach(async () => {
    sink = await new HttpSink().start();
  });
  afterEach(async () => {
    await svc?.shutdown();
    svc = undefined;
    await sink.stop();
  });

  it('POSTs the bytes unchanged to endpoint + /v1/traces, gzip-compressed, with headers, its User-Agent and one kept-alive connection', async () => {
    await start(`endpoint: ${sink.url}/\nheaders: { X-Scope-OrgID: tenant-1 }`);
    const bodies = [Buffer.concat([traceRequest(2), Buffer.from([0xa2, 0x06, 0x01, 0x07])]), traceRequest(1), traceRequest(3)];
    for (const b of bodies) {
      assert.equal((await post(port, '/v1/traces', b)).status, 200);
      await sink.waitForRequests(sink.received.length + 1);
    }
    for (const [i, got] of sink.received.entries()) {
      assert.equal(got.url, '/v1/traces');
      assert.equal(got.method, 'POST');
      assert.deepEqual(got.bytes, bodies[i]);
      assert.equal(got.headers['content-type'], 'application/x-protobuf');
      assert.equal(got.headers['content-encoding'], 'gzip');
      assert.equal(got.headers['x-scope-orgid'], 'tenant-1');
      assert.match(got.headers['user-agent']!, /^tracebridge\/\d+\.\d+\.\d+ \(otlphttp\)$/);
    }
    assert.equal(sink.connections, 1, 'requests reuse one keep-alive connection');
  });

  it('uses traces_endpoint as given and sends OTLP/JSON with hex IDs when encoding is json', async () => {
    await start(`traces_endpoint: ${sink.url}/custom/path\nencoding: json\ncompression: none`);
    const body = traceRequest(2, { attributes: [{ key: 'http.request.method', value: { stringValue: 'GET' } }] });
    assert.equal((await post(port, '/v1/traces', body)).status, 200);
    await sink.waitForRequests(1);
    const got = sink.received[0]!;
    assert.equal(got.url, '/custom/path');
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers['content-encoding'], undefined);
    const json = JSON.parse(got.bytes.toString('utf8')) as { resourceSpans: { scopeSpans: { spans: { traceId: string; startTimeUnixNano: unknown }[] }[] }[] };
    const span = json.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    assert.match(span.traceId, /^[0-9a-f]{32}$/);
    assert.equal(span.startTimeUnixNano, '1700000000000000000');
    assert.deepEqual(decodeTraceRequest(traceRequestJsonToProto(got.bytes)), decodeTraceRequest(body));
  });

  // Each signal's endpoint is its own: a collector for traces in the cluster over http://, a
  // vendor's https:// endpoint for metrics.
  it('sends each signal over its own endpoint\'s scheme: traces to http://, metrics to https://', async () => {
    const tls = await new HttpSink().start(0, { cert: readFileSync(new URL('server.pem', TLS_DIR)), key: readFileSync(new URL('server-key.pem', TLS_DIR)) });
    try {
      await start(`traces_endpoint: ${sink.url}/v1/traces\nmetrics_endpoint: ${tls.url}/v1/metrics\ntls: { ca_file: ${new URL('ca.pem', TLS_DIR).pathname} }`);
      assert.equal((await post(port, '/v1/traces', traceRequest(2))).status, 200);
      assert.equal((await post(port, '/v1/metrics', Buffer.from('0a0b0a09120774657374696e67', 'hex'))).status, 200);
      await sink.waitForRequests(1);
      await tls.waitForRequests(1);
      assert.equal(sink.received[0]!.url, '/v1/traces');
      assert.equal(tls.received[0]!.url, '/v1/metrics');
      assert.equal(counter('otelcol_exporter_send_failed_spans_total'), 0);
    } finally {
      // The exporter's kept-alive connection goes with it; the sink's close waits for it.
      await svc?.shutdown();
      svc = undefined;
      await tls.stop();
    }
  });

  it('passes metrics and logs through byte for byte to /v1/metrics and /v1/logs', async () => {
    await start(`endpoint: ${sink.url}`);
    const metrics = Buffer.from('0a0b0a09120774657374696e67', 'hex');
    const logs = Buffer.from('0a0512030a0178', 'hex');
    assert.equal((await post(port, '/v1/metrics', metrics)).status, 200);
    assert.equal((await post(port, '/v1/logs', logs)).status, 200);
    await sink.waitForRequests(2);
    const byUrl = Object.fromEntries(sink.received.map((r) => [r.url, r.bytes]));
    assert.deepEqual(byUrl['/v1/metrics'], metrics);
    assert.deepEqual(byUrl['/v1/logs'], logs);
    await sink.waitUntil(() => metricValue(svc!.metrics.render(), 'tracebridge_exporter_passthrough_sent_requests_total', { exporter: 'otlphttp', signal: 'logs' }) === 1, 2000, 'logs counted');
  });

  it('honours Retry-After on 429, retries 503 and 502', async () => {
    await start(`endpoint: ${sink.url}`);
    sink.script = [
      { kind: 'http-error', status: 429, retryAfter: '1' },
      { kind: 'http-error', status: 503 },
      { kind: 'http-error', status: 502 },
    ];
    await post(port, '/v1/traces', traceRequest(2));
    await sink.waitForRequests(4);
    const at = sink.received.map((r) => r.at);
    assert.ok(at[1]! - at[0]! >= 995, `retried ${at[1]! - at[0]!}ms after a 429 with Retry-After: 1`);
    await sink.waitUntil(() => counter('otelcol_exporter_sent_spans_total') === 2, 2000, 'sent counter');
    assert.equal(counter('tracebridge_exporter_send_retries_total'), 3);
  });

  it('does not retry other statuses (400, 401, 413) and counts the spans as failed', async () => {
    await start(`endpoint: ${sink.url}`);
    sink.script = [
      { kind: 'http-error', status: 400, body: Buffer.from('0803120862616420737061', 'hex') },
      { kind: 'http-error', status: 401 },
      { kind: 'http-error', status: 413 },
    ];
    for (const n of [1, 2, 3]) await post(port, '/v1/traces', traceRequest(n));
    await sink.waitUntil(() => counter('otelcol_exporter_send_failed_spans_total') === 6, 3000, 'failed counter');
    await new Promise((r) => setTimeout(r, 150)); // several retry intervals: nothing more may arrive
    assert.equal(sink.received.length, 3);
    assert.equal(counter('tracebridge_exporter_send_retries_total'), 0);
  });

  it('counts a JSON partial success', async () => {
    await start(`endpoint: ${sink.url}\nencoding: json`);
    sink.script = [{ kind: 'ok', rejected: 1, message: 'one span too old' }];
    await post(port, '/v1/traces', traceRequest(4));
    await sink.waitUntil(() => counter('otelcol_exporter_sent_spans_total') === 3, 2000, 'sent counter');
    assert.equal(counter('otelcol_exporter_send_failed_spans_total'), 1);
  });

  it('delivers everything accepted while the backend was down, once it comes up', async () => {
    await sink.stop();
    const later = await freePort();
    await start(`endpoint: http://127.0.0.1:${later}`);
    for (let i = 0; i < 4; i++) assert.equal((await post(port, '/v1/traces', traceRequest(3))).status, 200);
    await new Promise((r) => setTimeout(r, 200));
    sink = await new HttpSink().start(later);
    await sink.waitUntil(() => counter('otelcol_exporter_sent_spans_total') === 12, 8000, '12 spans sent');
    assert.equal(sink.spansReceived(), 12);
  });
});
