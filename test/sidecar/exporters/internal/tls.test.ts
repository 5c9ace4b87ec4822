// Client TLS of both OTLP exporters against TLS sinks: CA file, mutual TLS, and what happens
// without the CA (not delivered) or with insecure_skip_verify (delivered).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import type { Service } from '../../../../sidecar/service/service.ts';
import { deliveryRegistry, metricValue, post, traceRequest, withRealNetwork } from '../../../support/delivery.ts';
import { GrpcSink, HttpSink, type SinkTls } from '../../../support/otlp-sinks.ts';
import { startService } from '../../../support/sink.ts';

const dir = new URL('./testdata/tls/', import.meta.url);
const file = (name: string) => new URL(name, dir).pathname;
const pem = (name: string) => readFileSync(file(name));
const serverTls: SinkTls = { cert: pem('server.pem'), key: pem('server-key.pem') };
const mutualTls: SinkTls = { ...serverTls, ca: pem('ca.pem') };

function config(type: 'otlp' | 'otlphttp', endpoint: string, tls: string): string {
  return `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
exporters:
  ${type}:
    endpoint: ${endpoint}
    tls: ${tls}
    timeout: 1s
    retry_on_failure: { initial_interval: 20ms, max_interval: 50ms, max_elapsed_time: 300ms }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [${type}] }
  telemetry: { metrics: { level: none } }
`;
}

describe('exporter client TLS', () => {
  withRealNetwork();
  let svc: Service | undefined;
  let sink: GrpcSink | HttpSink | undefined;
  afterEach(async () => {
    await svc?.shutdown();
    svc = undefined;
    await sink?.stop();
  });

  async function send(yaml: string): Promise<Service> {
    svc = await startService(yaml, {}, deliveryRegistry);
    const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
    assert.equal((await post(port, '/v1/traces', traceRequest(2))).status, 200);
    return svc;
  }

  const cases = [
    { type: 'otlp' as const, start: (t: SinkTls) => new GrpcSink().start(0, t), endpoint: (s: GrpcSink | HttpSink) => `127.0.0.1:${s.port}` },
    { type: 'otlphttp' as const, start: (t: SinkTls) => new HttpSink().start(0, t), endpoint: (s: GrpcSink | HttpSink) => `https://127.0.0.1:${s.port}` },
  ];

  for (const c of cases) {
    it(`${c.type}: verifies the server against ca_file`, async () => {
      sink = await c.start(serverTls);
      await send(config(c.type, c.endpoint(sink), `{ ca_file: ${file('ca.pem')} }`));
      await sink.waitUntil(() => sink!.spansReceived() === 2, 5000, '2 spans');
    });

    it(`${c.type}: presents cert_file/key_file to a server that requires a client certificate`, async () => {
      sink = await c.start(mutualTls);
      await send(config(c.type, c.endpoint(sink), `{ ca_file: ${file('ca.pem')}, cert_file: ${file('client.pem')}, key_file: ${file('client-key.pem')} }`));
      await sink.waitUntil(() => sink!.spansReceived() === 2, 5000, '2 spans');
    });

    it(`${c.type}: does not deliver to a server its CAs do not trust, unless insecure_skip_verify`, async () => {
      sink = await c.start(serverTls);
      const s = await send(config(c.type, c.endpoint(sink), '{}'));
      const failed = () => metricValue(s.metrics.render(), 'otelcol_exporter_send_failed_spans_total', { exporter: c.type });
      await sink.waitUntil(() => failed() === 2, 5000, 'spans failed');
      assert.equal(sink.spansReceived(), 0);
      await svc!.shutdown();
      await send(config(c.type, c.endpoint(sink), '{ insecure_skip_verify: true }'));
      await sink.waitUntil(() => sink!.spansReceived() === 2, 5000, '2 spans');
    });
  }
});
