// No self-tracing: spans Envoy records for the sidecar's own exports are dropped, by default in
// every traces pipeline; everything else passes untouched.
import assert from 'node:assert/strict';
import { userAgent } from '../../../../sidecar/component/user-agent.ts';
import { decodeTraceRequest, encodeTraceRequest, type KeyValue, type ResourceSpans } from '../../../../sidecar/pdata/otlp-schema.ts';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import type { Service } from '../../../../sidecar/service/service.ts';
import { deliveryRegistry, metricValue, post, withRealNetwork } from '../../../support/delivery.ts';
import { sinks, startService } from '../../../support/sink.ts';
import { prefilterNeedle } from '../../../../sidecar/processors/tracebridge_selffilter/processor.ts';
import { readFileSync } from 'node:fs';
import type { ZipkinReceiver } from '../../../../sidecar/receivers/zipkin/receiver.ts';

const tags = (t: Record<string, string>): KeyValue[] => Object.entries(t).map(([key, v]) => ({ key, value: { stringValue: v } }));
let n = 0;
const span = (name: string, kind: number, attributes: KeyValue[]) => {
  n++;
  return { traceId: Buffer.alloc(16, n), spanId: Buffer.alloc(8, n), name, kind, startTimeUnixNano: 1n, endTimeUnixNano: 2n, attributes };
};

/** An Istio sidecar's Zipkin span for an outbound request, as the zipkin receiver turns it into OTLP (tags → attributes). */
function envoyZipkinClientSpan(ua: string, url: string) {
  return span('gateway.observability.svc.cluster.local:4318/*', 3, tags({
    component: 'proxy',
    'downstream_cluster': '-',
    'guid:x-request-id': '2f0c5d1e-0e58-9a4b-a5b6-3c1f0b9e8d7a',
    'http.method': 'POST',
    'http.protocol': 'HTTP/1.1',
    'http.status_code': '200',
    'http.url': url,
    'istio.canonical_service': 'checkout',
    'istio.namespace': 'shop',
    'node_id': 'sidecar~10.1.2.3~checkout-7d9f.shop~shop.svc.cluster.local',
    'peer.address': '10.1.2.3',
    'request_size': '1834',
    'response_flags': '-',
    'response_size': '2',
    'upstream_cluster': 'outbound|4318||gateway.observability.svc.cluster.local',
    'user_agent': ua,
  }));
}

/** Envoy's OpenTelemetry tracer with semantic conventions on: `user_agent.original`. */
function envoyOtelClientSpan(ua: string) {
  return span('router outbound|4317||gateway egress', 3, tags({ 'http.request.method': 'POST', 'url.full': 'http://gateway:4317/opentelemetry.proto.collector.trace.v1.TraceService/Export', 'user_agent.original': ua, 'upstream_cluster': 'outbound|4317||gateway' }));
}

function request(): { bytes: Buffer; keep: string[] } {
  const envoy: ResourceSpans = {
    resource: { attributes: tags({ 'service.name': 'checkout.shop' }) },
    scopeSpans: [
      {
        spans: [
          envoyZipkinClientSpan(userAgent('otlphttp'), 'http://gateway.observability:4318/v1/traces'),
          envoyZipkinClientSpan('Mozilla/5.0 (X11; Linux x86_64)', 'http://cart:8080/cart'),
          envoyZipkinClientSpan(`${userAgent('otlp')} grpc-node-js/1.14.7`, 'http://gateway:4317/opentelemetry.proto.collector.trace.v1.TraceService/Export'),
        ],
      },
    ],
  };
  const selfOnly: ResourceSpans = { resource: { attributes: tags({ 'service.name': 'istio-proxy' }) }, scopeSpans: [{ spans: [envoyOtelClientSpan(userAgent('otlp'))] }] };
  const app: ResourceSpans = {
    resource: { attributes: tags({ 'service.name': 'checkout' }) },
    scopeSpans: [
      { spans: [span('GET /cart', 2, tags({ 'http.user_agent': 'curl/8.5.0' })), span('tracebridge/ in a name only', 1, tags({ note: 'tracebridge/0.1.0 (otlp)' }))] },
    ],
  };
  return { bytes: Buffer.from(encodeTraceRequest({ resourceSpans: [envoy, selfOnly, app] })), keep: ['gateway.observability.svc.cluster.local:4318/*', 'GET /cart', 'tracebridge/ in a name only'] };
}

const CONFIG = (processors: string, defs = '') => `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
${defs}
exporters:
  sink: {}
service:
  pipelines:
    traces: { receivers: [otlp], processors: [${processors}], exporters: [sink] }
  telemetry: { metrics: { level: none } }
`;

describe('tracebridge_selffilter (no self-tracing)', () => {
  withRealNetwork();
  let svc: Service | undefined;
  afterEach(async () => {
    await svc?.shutdown();
    svc = undefined;
  });

  async function send(yaml: string): Promise<string[]> {
    svc = await startService(yaml, {}, deliveryRegistry);
    const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
    assert.equal((await post(port, '/v1/traces', request().bytes)).status, 200);
    return sinks.get('sink')!.spans().map((s) => s.span.name ?? '');
  }

  it("drops Envoy's spans of the sidecar's own exports by default, keeps every other span, and counts the drops", async () => {
    const names = await send(CONFIG(''));
    assert.deepEqual(names, request().keep);
    const sink = sinks.get('sink')!;
    const kept = sink.spans().find((s) => s.span.name === 'gateway.observability.svc.cluster.local:4318/*')!;
    assert.equal(kept.span.attributes?.find((a) => a.key === 'user_agent')?.value?.stringValue, 'Mozilla/5.0 (X11; Linux x86_64)');
    // The resource whose only span was the sidecar's is gone; the others keep their resources.
    const services = decodeTraceRequest(sink.batches[0]!.bytes).resourceSpans!.map((rs) => rs.resource?.attributes?.[0]?.value?.stringValue);
    assert.deepEqual(services, ['checkout.shop', 'checkout']);
    assert.equal(sink.spanCount(), 3);
    const dropped = metricValue(svc!.metrics.render(), 'tracebridge_selffilter_dropped_spans_total', { pipeline: 'traces', processor: 'tracebridge_selffilter' });
    assert.equal(dropped, 3);
  });

  it('drops the span Istio recorded for an export to X-Ray, received by the zipkin receiver from a fixture', async () => {
    svc = await startService(
      `
receivers:
  zipkin: { endpoint: 127.0.0.1:0 }
exporters:
  sink: {}
service:
  pipelines:
    traces: { receivers: [zipkin], exporters: [sink] }
  telemetry: { metrics: { level: none } }
`,
      {},
      deliveryRegistry,
    );
    const port = (svc.receivers.get('zipkin') as ZipkinReceiver).port;
    const body = readFileSync(new URL('../../testdata/zipkin/istio-128bit.json', import.meta.url));
    const res = await post(port, '/api/v2/spans', body, { 'Content-Type': 'application/json' });
    assert.ok(res.status === 202 || res.status === 200, String(res.status));
    const spans = sinks.get('sink')!.spans();
    assert.equal(spans.length, 2);
    assert.ok(spans.every((s) => !s.span.attributes?.some((a) => a.value?.stringValue?.startsWith('tracebridge/'))));
    assert.equal(metricValue(svc.metrics.render(), 'tracebridge_selffilter_dropped_spans_total', { pipeline: 'traces', processor: 'tracebridge_selffilter' }), 1);
  });

  it('can be placed, tuned or turned off by listing it', async () => {
    const off = await send(CONFIG('tracebridge_selffilter', 'processors:\n  tracebridge_selffilter: { enabled: false }'));
    assert.equal(off.length, 6);
  });

  it('looks first for the 6 bytes of the prefix that start at its rarest letter, and passes a batch that holds those bytes but not the prefix', async () => {
    assert.equal(prefilterNeedle(Buffer.from('tracebridge/')).toString(), 'bridge');
    assert.equal(prefilterNeedle(Buffer.from('Mozilla/')).toString(), 'zilla/');
    assert.equal(prefilterNeedle(Buffer.from('curl/')).toString(), 'curl/');
    svc = await startService(CONFIG('batch', 'processors:\n  batch: {}'), {}, deliveryRegistry);
    const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
    const cambridge = span('GET /campus', 2, tags({ 'user_agent.original': 'cambridge-bridge/2.0', 'server.address': 'tracebridge.example' }));
    const bytes = Buffer.from(encodeTraceRequest({ resourceSpans: [{ resource: { attributes: tags({ 'service.name': 'campus' }) }, scopeSpans: [{ spans: [cambridge] }] }] }));
    assert.equal((await post(port, '/v1/traces', bytes)).status, 200);
    await svc.shutdown();
    assert.deepEqual(sinks.get('sink')!.spans().map((s) => s.span.name), ['GET /campus']);
  });

  it('matches only the configured attributes and prefix', async () => {
    const names = await send(CONFIG('tracebridge_selffilter/ua', "processors:\n  tracebridge_selffilter/ua: { attributes: [user_agent], user_agent_prefix: 'Mozilla/' }"));
    assert.equal(names.length, 5);
    // Of the three Envoy Zipkin spans only the browser's went; the sidecar's own two stay (filter narrowed).
    assert.equal(names.filter((x) => x === 'gateway.observability.svc.cluster.local:4318/*').length, 2);
  });
});
