// The embedded default exporting to X-Ray's OTLP endpoint (what the injector configures) under a
// realistic volume. The endpoint is the AWS API and cannot run here, so nock plays it, enforcing
// X-Ray's documented quotas: at most 10,000 spans and 5 MB uncompressed per request (413 over
// either), 200 KB per span. Every span a client got 200 for must be accepted by "X-Ray".
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { embeddedDefault } from '../../../../sidecar/config/embedded-default.ts';
import { mergeConfig } from '../../../../sidecar/config/load.ts';
import { decodeSidecarConfig } from '../../../../sidecar/config/service-config.ts';
import { indexTraceRequest } from '../../../../sidecar/pdata/trace-view.ts';
import { decodeTraceRequest } from '../../../../sidecar/pdata/otlp-schema.ts';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import { components } from '../../../../sidecar/service/components.ts';
import { Service } from '../../../../sidecar/service/service.ts';
import { metricValue, post } from '../../../support/delivery.ts';
import { silentLogger } from '../../../support/sink.ts';
import { envoyRequest } from '../../../support/spans.ts';
import { nockOff, nockOn, type Nock } from '../../../injector/nock.ts';

const XRAY = 'https://xray.us-east-1.amazonaws.com';
const ENV = { AWS_ACCESS_KEY_ID: 'AKIDTRACEBRIDGETEST', AWS_SECRET_ACCESS_KEY: 'c2VjcmV0LXRlc3Qta2V5LW5vdC1yZWFs', AWS_REGION: 'us-east-1' };
const MAX_SPANS = 10_000;
const MAX_BYTES = 5_000_000;
const MAX_SPAN_BYTES = 200 * 1024;

interface Seen {
  spans: number;
  bytes: number;
  body: Buffer;
}

/** The embedded default as the injector runs it (traces to X-Ray), its receivers on ephemeral ports. */
async function startEmbedded(): Promise<Service> {
  const env = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${XRAY}/v1/traces` };
  const available = {
    receiver: new Set(components.receiver.keys()),
    processor: new Set(components.processor.keys()),
    exporter: new Set(components.exporter.keys()),
    extension: new Set(components.extension.keys()),
  };
  const def = embeddedDefault(env, available).config;
  const local = mergeConfig(def, {
    receivers: { otlp: { protocols: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } } }, zipkin: { endpoint: '127.0.0.1:0' }, awsxray: { endpoint: '127.0.0.1:0', proxy_server: { endpoint: '127.0.0.1:0' } } },
    extensions: { health_check: { endpoint: '127.0.0.1:0' } },
    service: { telemetry: { metrics: { address: null }, logs: { level: 'error' } } },
  });
  const svc = new Service(decodeSidecarConfig(local), silentLogger);
  await svc.start();
  return svc;
}

describe('otlphttp exporter to X-Ray OTLP endpoint quotas (embedded default, nock)', function () {
  this.timeout(60_000);
  let nock: typeof Nock;
  let svc: Service | undefined;
  const saved: Record<string, string | undefined> = {};
  const accepted: Seen[] = [];
  let refused = 0;

  before(async () => {
    for (const [k, v] of Object.entries(ENV)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    nock = await nockOn();
    nock.enableNetConnect('127.0.0.1');
  });
  after(() => {
    nockOff(nock);
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  beforeEach(() => {
    accepted.length = 0;
    refused = 0;
    nock(XRAY)
      .persist()
      .post('/v1/traces')
      .reply(async (req: Request) => {
        assert.match(req.headers.get('authorization') ?? '', /^AWS4-HMAC-SHA256 Credential=AKIDTRACEBRIDGETEST\/\d{8}\/us-east-1\/xray\//);
        // nock hands the body over already decompressed.
        const wire = Buffer.from(await req.arrayBuffer());
        const body = wire[0] === 0x1f && wire[1] === 0x8b ? gunzipSync(wire) : wire;
        const view = indexTraceRequest(body);
        const spans = view.spanCount;
        let largest = 0;
        for (let k = 0; k < spans; k++) largest = Math.max(largest, view.spanEnd(k) - view.spanStart(k));
        if (spans > MAX_SPANS || body.length > MAX_BYTES || largest > MAX_SPAN_BYTES) {
          refused++;
          return [413, `request of ${spans} spans, ${body.length} bytes (largest span ${largest}) is over the quota`] as const;
        }
        accepted.push({ spans, bytes: body.length, body });
        return [200, '', { 'Content-Type': 'application/x-protobuf' }] as const;
      });
  });
  afterEach(async () => {
    await svc?.shutdown();
    svc = undefined;
    nock.cleanAll();
  });

  it('delivers 24 OTLP/HTTP requests of 1,000 Envoy-like spans (~1 KB each) in requests within 10,000 spans and 5 MB', async () => {
    svc = await startEmbedded();
    const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
    const answers = await Promise.all(Array.from({ length: 24 }, () => post(port, '/v1/traces', envoyRequest(1000))));
    assert.deepEqual(answers.map((a) => a.status), Array(24).fill(200));
    await svc.shutdown();
    const delivered = accepted.reduce((n, s) => n + s.spans, 0);
    assert.equal(refused, 0, 'no request over the quota was sent');
    assert.equal(delivered, 24_000);
    for (const s of accepted) {
      assert.ok(s.spans <= MAX_SPANS && s.bytes <= MAX_BYTES, `${s.spans} spans / ${s.bytes} bytes`);
    }
  });

  it('trims a span over 200 KB (attributes and events cut, recorded in tracebridge.trimmed) and delivers it with the rest', async () => {
    svc = await startEmbedded();
    const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
    const big = Array.from({ length: 300 }, (_, i) => ({ key: `db.statement.${i}`, value: { stringValue: 'x'.repeat(1000) } }));
    const { encodeTraceRequest } = await import('../../../../sidecar/pdata/otlp-schema.ts');
    const body = Buffer.from(
      encodeTraceRequest({
        resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'orders' } }] }, scopeSpans: [{ spans: [
          { traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 1), name: 'huge', attributes: big, startTimeUnixNano: 1n, endTimeUnixNano: 2n },
          { traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 'small', startTimeUnixNano: 1n, endTimeUnixNano: 2n },
        ] }] }],
      }),
    );
    assert.equal((await post(port, '/v1/traces', body)).status, 200);
    await svc.shutdown();
    assert.equal(refused, 0);
    const spans = accepted.flatMap((s) => decodeTraceRequest(s.body).resourceSpans!.flatMap((rs) => rs.scopeSpans!.flatMap((ss) => ss.spans!)));
    assert.deepEqual(spans.map((s) => s.name).sort(), ['huge', 'small']);
    const huge = spans.find((s) => s.name === 'huge')!;
    const trimmed = huge.attributes!.find((a) => a.key === 'tracebridge.trimmed');
    assert.ok(trimmed, 'the trimmed span says so');
    assert.ok((huge.droppedAttributesCount ?? 0) > 0, 'dropped attributes are counted on the span');
  });

  it('answers SDK metrics and logs exports without 400 when the exporter only has a traces endpoint', async () => {
    svc = await startEmbedded();
    const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
    for (const path of ['/v1/metrics', '/v1/logs']) {
      const res = await post(port, path, Buffer.alloc(0));
      assert.notEqual(res.status, 400, `${path}: ${res.body.toString()}`);
      assert.notEqual(res.status, 200, `${path} must not be acknowledged: nothing could deliver it`);
    }
    assert.equal(metricValue(svc.metrics.render(), 'otelcol_exporter_send_failed_spans_total', { exporter: 'otlphttp' }), 0);
  });
});
