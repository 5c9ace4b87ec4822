// End to end: an app using the OpenTelemetry JS SDK exports through a running sidecar process
// configured with the attributes and resource processors (YAML as a user writes it); the backend
// receives the spans with the changes, and nothing else changed.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { decodeTraceRequest } from '../../../../sidecar/pdata/otlp-schema.ts';
import { startProcess } from '../../../support/process.ts';
import { testApp } from '../../../support/otel.ts';
import { HttpSink } from '../../../support/otlp-sinks.ts';
import { freeSidecarPorts } from '../../../support/sidecar-env.ts';
import { i, pairs, s, sha256 } from './support.ts';

describe('attributes and resource processors, end to end', () => {
  let sink: HttpSink;
  beforeEach(async () => {
    sink = await new HttpSink().start();
  });
  afterEach(() => sink.stop());

  it('an SDK app’s spans reach the backend with the attribute and resource changes applied', async () => {
    const ports = await freeSidecarPorts();
    const dir = mkdtempSync(join(tmpdir(), 'tb-attrs-'));
    const cfg = join(dir, 'sidecar.yaml');
    writeFileSync(
      cfg,
      `receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:${ports.otlp_http} } } }
processors:
  attributes/redact:
    actions:
      - { key: user.password, action: delete }
      - { key: user.email, action: hash }
      - { key: http.status_code, action: convert, converted_type: int }
      - { key: http.target, action: extract, pattern: '^/api/(?P<api_version>v\\d+)/' }
      - { key: team, action: insert, value: payments }
    exclude:
      match_type: strict
      span_names: [healthz]
  resource:
    attributes:
      - { key: k8s.cluster.name, value: prod-eu, action: upsert }
      - { key: process.pid, action: delete }
  batch: { timeout: 10ms }
exporters:
  otlphttp: { endpoint: ${sink.url} }
extensions: { health_check: { endpoint: 127.0.0.1:${ports.health} } }
service:
  extensions: [health_check]
  pipelines: { traces: { receivers: [otlp], processors: [attributes/redact, resource, batch], exporters: [otlphttp] } }
  telemetry: { metrics: { address: 127.0.0.1:${ports.metrics} } }
`,
    );
    const proc = startProcess('sidecar/main.ts', ['--config', cfg]);
    try {
      await proc.waitFor(/tracebridge sidecar running/);
      const app = testApp(new OTLPTraceExporter({ url: `http://127.0.0.1:${ports.otlp_http}/v1/traces` }), 'checkout');
      app.tracer
        .startSpan('POST /api/v2/orders', { attributes: { 'user.password': 'hunter2', 'user.email': 'a@b.c', 'http.status_code': '201', 'http.target': '/api/v2/orders?x=1', 'http.method': 'POST' } })
        .end();
      app.tracer.startSpan('healthz', { attributes: { 'user.email': 'probe@b.c' } }).end();
      await app.flush();
      await app.provider.shutdown();
      await sink.waitUntil(() => sink.spansReceived() >= 2, 8000, 'both spans at the backend');

      const spans = sink.received.flatMap((r) => decodeTraceRequest(r.bytes).resourceSpans ?? []).flatMap((rs) => (rs.scopeSpans ?? []).flatMap((ss) => (ss.spans ?? []).map((span) => ({ rs, span }))));
      const byName = new Map(spans.map((x) => [x.span.name, x]));
      const order = byName.get('POST /api/v2/orders')!;
      assert.deepEqual(
        new Map(pairs(order.span.attributes)),
        new Map([
          ['user.email', s(sha256(Buffer.from('a@b.c')))],
          ['http.status_code', i(201)],
          ['http.target', s('/api/v2/orders?x=1')],
          ['http.method', s('POST')],
          ['api_version', s('v2')],
          ['team', s('payments')],
        ]),
      );
      // Excluded by name: attributes as the app wrote them.
      assert.deepEqual(pairs(byName.get('healthz')!.span.attributes), [['user.email', s('probe@b.c')]]);
      for (const { rs } of spans) {
        const res = new Map(pairs(rs.resource?.attributes));
        assert.deepEqual(res.get('k8s.cluster.name'), s('prod-eu'));
        assert.deepEqual(res.get('service.name'), s('checkout'));
        assert.equal(res.has('process.pid'), false);
      }
      assert.equal(order.span.traceId?.length, 16);
    } finally {
      proc.child.kill('SIGTERM');
    }
    assert.equal(await proc.exited, 0, proc.stderr());
  });
});
