// End to end: an app with the OpenTelemetry JS SDK (random W3C IDs) exports OTLP/HTTP to a running
// sidecar service (tracecontext rewrite when that processor is registered → batch → awsxray); the
// X-Ray API, mocked with nock, must receive one stitched trace: one X-Ray trace ID, every parent
// link pointing at a segment of the trace.
import assert from 'node:assert/strict';
import nock from 'nock';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { context, SpanKind, trace } from '@opentelemetry/api';
import type { SegmentDocument } from '../../../../sidecar/exporters/awsxray/document.ts';
import { awsxrayExporterFactory } from '../../../../sidecar/exporters/awsxray/factory.ts';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import type { Service } from '../../../../sidecar/service/service.ts';
import { isXRayValidTraceId, parseXRayTraceId } from '../../../../sidecar/tracecontext/index.ts';
import { testApp } from '../../../support/otel.ts';
import { startService, testRegistry } from '../../../support/sink.ts';

const registry = { ...testRegistry, exporter: new Map([...testRegistry.exporter, ['awsxray', awsxrayExporterFactory]]) };
// The tracecontext processor is separate work: the rewrite step joins the pipeline once it is registered.
const REWRITE = registry.processor.has('tracecontext');

const CONFIG = `
receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }
processors:
${REWRITE ? '  tracecontext: { on_invalid: rewrite }\n' : ''}  batch: { send_batch_size: 100, timeout: 50ms }
exporters:
  awsxray:
    region: us-west-2
    retry_on_failure: { initial_interval: 10ms, max_interval: 20ms }
service:
  pipelines:
    traces: { receivers: [otlp], processors: [${REWRITE ? 'tracecontext, ' : ''}batch], exporters: [awsxray] }
  telemetry: { metrics: { level: none } }
`;

describe('awsxray exporter end to end: OpenTelemetry SDK → sidecar → PutTraceSegments', () => {
  const saved: Record<string, string | undefined> = {};
  const ENV: Record<string, string | undefined> = {
    AWS_ACCESS_KEY_ID: 'AKIDTRACEBRIDGE',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_CONFIG_FILE: '/nonexistent/tracebridge-test/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/tracebridge-test/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  let svc: Service | undefined;

  before(() => {
    for (const [k, v] of Object.entries(ENV)) {
      saved[k] = process.env[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    // nock starts inactive (test/support/root-hooks.ts): on for this file only.
    if (!nock.isActive()) nock.activate();
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });

  after(async () => {
    await svc?.shutdown();
    nock.cleanAll();
    nock.enableNetConnect();
    if (nock.isActive()) nock.restore();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it(`delivers one stitched trace${REWRITE ? ' (tracecontext rewrite before batch)' : ' (no tracecontext processor registered: IDs kept, counted as legacy-invalid)'}`, async () => {
    const docs: SegmentDocument[] = [];
    let authorization = '';
    let arrived: () => void = () => {};
    const allArrived = new Promise<void>((r) => (arrived = r));
    nock('https://xray.us-west-2.amazonaws.com')
      .persist()
      .post('/TraceSegments')
      .reply(async (req: Request) => {
        authorization = req.headers.get('authorization') ?? '';
        const body = (await req.json()) as { TraceSegmentDocuments: string[] };
        for (const d of body.TraceSegmentDocuments) docs.push(JSON.parse(d) as SegmentDocument);
        if (docs.length >= 4) arrived();
        return [200, JSON.stringify({ UnprocessedTraceSegments: [] }), { 'content-type': 'application/json' }];
      });

    svc = await startService(CONFIG, {}, registry);
    const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
    const app = testApp(new OTLPTraceExporter({ url: `http://127.0.0.1:${port}/v1/traces` }), 'checkout');

    // GET /checkout → (cart lookup, payment call → remote) with the SDK's random W3C IDs.
    const root = app.tracer.startSpan('GET /checkout', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 } });
    const inRoot = trace.setSpan(context.active(), root);
    const lookup = app.tracer.startSpan('load cart', { kind: SpanKind.INTERNAL }, inRoot);
    const pay = app.tracer.startSpan('POST', { kind: SpanKind.CLIENT, attributes: { 'peer.service': 'payments', 'http.request.method': 'POST', 'url.full': 'http://payments/charge', 'http.response.status_code': 201 } }, trace.setSpan(inRoot, lookup));
    pay.end();
    lookup.end();
    const tail = app.tracer.startSpan('render', { kind: SpanKind.INTERNAL }, inRoot);
    tail.end();
    root.end();
    const w3cTraceId = root.spanContext().traceId;
    await app.flush();
    await app.provider.shutdown();
    await allArrived;

    assert.equal(docs.length, 4);
    assert.match(authorization, /\/us-west-2\/xray\/aws4_request/);
    const traceIds = new Set(docs.map((d) => d.trace_id));
    assert.equal(traceIds.size, 1, 'one X-Ray trace ID for the whole trace');
    const xrayId = [...traceIds][0]!;
    assert.match(xrayId, /^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    assert.equal(xrayId.slice(11), w3cTraceId.slice(8), 'bytes 4-15 are the W3C ID\'s');

    const byId = new Map(docs.map((d) => [d.id, d]));
    assert.equal(byId.size, 4, 'segment IDs are unique');
    const segment = docs.find((d) => d.type === undefined)!;
    assert.equal(segment.name, 'checkout');
    assert.equal(segment.id, root.spanContext().spanId);
    for (const d of docs) {
      if (d === segment) continue;
      assert.equal(d.type, 'subsegment');
      assert.ok(byId.has(d.parent_id!), `parent ${d.parent_id} of ${d.name} is in the trace`);
    }
    assert.equal(byId.get(pay.spanContext().spanId)!.parent_id, lookup.spanContext().spanId);
    assert.equal(byId.get(pay.spanContext().spanId)!.name, 'payments');
    assert.equal(byId.get(pay.spanContext().spanId)!.namespace, 'remote');

    const invalid = svc.metrics.counter('tracebridge_exporter_awsxray_invalid_trace_ids_total', '').get({ exporter: 'awsxray' });
    const bytes = parseXRayTraceId(xrayId)!;
    if (REWRITE) {
      assert.ok(isXRayValidTraceId(bytes, Date.now() / 1000), 'the rewritten ID is legacy-valid');
      assert.equal(invalid, 0);
      for (const d of docs) assert.equal(d.annotations?.['tracebridge.original_trace_id'], w3cTraceId);
    } else {
      // A random W3C ID is legacy-valid only by chance (its first 4 bytes a date within the last 28 days).
      assert.equal(invalid, isXRayValidTraceId(bytes, Date.now() / 1000) ? 0 : 4);
    }
    // The sent counter moves once the SDK call has returned, just after the mock answered.
    const sent = () => svc!.metrics.counter('otelcol_exporter_sent_spans_total', '').get({ exporter: 'awsxray' });
    for (let i = 0; i < 100 && sent() < 4; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(sent(), 4);
  });
});
