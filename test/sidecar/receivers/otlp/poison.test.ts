// One client's malformed request must never spoil a batch holding other clients' spans: a running
// sidecar refuses it (HTTP 400 / gRPC INVALID_ARGUMENT naming the path of the fault) before
// acknowledging anything, while a valid request from the OpenTelemetry JS SDK sent in the same
// batch window reaches the sink intact. Fields of newer OTLP versions still pass byte for byte,
// and fuzzed SDK requests are either refused or delivered decodable: never accepted and lost.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import type { Service } from '../../../../sidecar/service/service.ts';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import { LOGS_EXPORT, METRICS_EXPORT, TRACE_EXPORT } from '../../../../sidecar/pdata/otlp-grpc-paths.ts';
import { decodeTraceRequest } from '../../../../sidecar/pdata/otlp-schema.ts';
import { validateTraceRequest } from '../../../../sidecar/pdata/trace-view.ts';
import { sinks, startService } from '../../../support/sink.ts';
import { testApp } from '../../../support/otel.ts';
import {
  anyString,
  cat,
  eventPayload,
  kv,
  len,
  linkPayload,
  mutate,
  mutation,
  nestedArrays,
  requestWithUnknownFieldsEverywhere,
  resourcePayload,
  scopePayload,
  sdkRequest,
  spanPayload,
  traceRequest,
} from '../../pdata/framing.ts';

const BATCH_MS = 150;

const CONFIG = `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }
processors:
  batch: { timeout: ${BATCH_MS}ms }
exporters:
  sink: {}
service:
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [sink] }
    metrics: { receivers: [otlp], exporters: [sink] }
    logs: { receivers: [otlp], exporters: [sink] }
  telemetry: { metrics: { level: none } }
`;

const SPAN = 'resource_spans\\[0\\]\\.scope_spans\\[0\\]\\.spans\\[0\\]';

/** Requests that break one nested message each, and the path the refusal must name. */
const POISON: [string, Buffer, RegExp][] = [
  ['an attribute value that is not protobuf', traceRequest({ spans: [spanPayload(len(9, kv('k', Buffer.from([0x0a, 0x05, 0x61]))))] }), new RegExp(`${SPAN}\\.attributes\\[1\\]\\.value: length 5 runs past`)],
  ['an event that is not protobuf', traceRequest({ spans: [spanPayload(len(11, Buffer.from([0x12, 0x09, 0x61])))] }), new RegExp(`${SPAN}\\.events\\[0\\]: length 9 runs past`)],
  ['a link with a 15-byte trace ID', traceRequest({ spans: [spanPayload(len(13, linkPayload(len(1, Buffer.alloc(15, 7)))))] }), new RegExp(`${SPAN}\\.links\\[0\\]\\.trace_id: must be 16 bytes, got 15`)],
  ['a status that is not protobuf', traceRequest({ spans: [spanPayload(len(15, Buffer.from([0x18])))] }), new RegExp(`${SPAN}\\.status: truncated varint`)],
  ['a resource that is not protobuf', traceRequest({ resource: len(1, Buffer.from([0x12, 0x03, 0x0a])) }), /resource_spans\[0\]\.resource\.attributes\[0\]\.value: length 3 runs past/],
  ['a scope that is not protobuf', traceRequest({ scope: Buffer.from([0x0a, 0x03, 0x61, 0x62]) }), /resource_spans\[0\]\.scope_spans\[0\]\.scope: length 3 runs past/],
  ['AnyValue nested too deep', traceRequest({ spans: [spanPayload(len(9, kv('deep', nestedArrays(60))))] }), new RegExp(`${SPAN}\\.attributes\\[1\\]\\.value\\.array_value.*: nested deeper than 100 messages`)],
  ['a span name that is not UTF-8', traceRequest({ spans: [spanPayload(len(5, Buffer.from([0xc3, 0x28])))] }), new RegExp(`${SPAN}\\.name: invalid UTF-8`)],
  ['an event attribute key that is not UTF-8', traceRequest({ spans: [spanPayload(len(11, eventPayload(len(3, kv(Buffer.from([0xff]), anyString('v'))))))] }), new RegExp(`${SPAN}\\.events\\[0\\]\\.attributes\\[1\\]\\.key: invalid UTF-8`)],
];

interface Answer {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

function post(port: number, path: string, body: Buffer, type = 'application/x-protobuf'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'Content-Type': type, 'Content-Length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const raw = (b: Buffer) => b;

function grpcCall(port: number, path: string, body: Buffer): Promise<grpc.ServiceError | Buffer> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, raw, raw, body, (err: grpc.ServiceError | null, res?: Buffer) => {
      client.close();
      resolve(err ?? res!);
    });
  });
}

function grpcRefusal(res: grpc.ServiceError | Buffer): { code: number; message: string } {
  if (Buffer.isBuffer(res)) assert.fail('the malformed request was acknowledged');
  // grpc-message is percent-encoded on the wire.
  return { code: res.code, message: decodeURIComponent(res.details) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('otlp receiver: malformed requests are refused before they are acknowledged', () => {
  let svc: Service;
  let http: number;
  let grpcPort: number;

  before(async () => {
    svc = await startService(CONFIG);
    const r = svc.receivers.get('otlp') as OtlpReceiver;
    http = r.http!.port;
    grpcPort = r.grpc!.port;
  });
  after(() => svc.shutdown());

  for (const [what, poison, path] of POISON) {
    it(`${what}: 400 / INVALID_ARGUMENT naming the path; an SDK span in the same batch window arrives intact`, async () => {
      const sink = sinks.get('sink')!;
      const before = sink.spanCount();
      const app = testApp(new GrpcExporter({ url: `http://127.0.0.1:${grpcPort}` }), 'bystander');
      const span = app.tracer.startSpan(`checkout after ${what}`);
      span.end();
      const [overHttp, overGrpc] = await Promise.all([post(http, '/v1/traces', poison), grpcCall(grpcPort, TRACE_EXPORT, poison), app.flush()]);
      await app.provider.shutdown();

      assert.equal(overHttp.status, 400);
      assert.equal(overHttp.headers['retry-after'], undefined, 'a data error is not retried');
      assert.match(overHttp.body.toString('utf8'), /malformed ExportTraceServiceRequest/);
      assert.match(overHttp.body.toString('utf8'), path);
      const refused = grpcRefusal(overGrpc);
      assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
      assert.match(refused.message, path);

      await sink.waitForSpans(before + 1);
      await sleep(BATCH_MS + 100);
      assert.equal(sink.spanCount(), before + 1, 'only the SDK span was accepted');
      // Every batch the sink holds decodes, and the SDK span is in one of them as it was sent.
      const got = sink.spans().filter((s) => Buffer.from(s.span.traceId ?? []).toString('hex') === span.spanContext().traceId);
      assert.equal(got.length, 1);
      assert.equal(got[0]!.span.name, `checkout after ${what}`);
      assert.equal(got[0]!.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue, 'bystander');
    });
  }

  it('OTLP/JSON: nesting beyond 100 messages is refused with 400; a lone surrogate escape becomes U+FFFD, as in Go decoders', async () => {
    const span = (value: unknown) => ({
      resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'json', attributes: [{ key: 'k', value }] }] }] }],
    });
    let deep: unknown = { stringValue: 'leaf' };
    for (let i = 0; i < 60; i++) deep = { arrayValue: { values: [deep] } };
    const res = await post(http, '/v1/traces', Buffer.from(JSON.stringify(span(deep))), 'application/json');
    assert.equal(res.status, 400);
    const body = JSON.parse(res.body.toString()) as { code: number; message: string };
    assert.equal(body.code, 3);
    assert.match(body.message, /malformed OTLP\/JSON: max depth exceeded/);

    const sink = sinks.get('sink')!;
    const before = sink.spanCount();
    const lone = await post(http, '/v1/traces', Buffer.from(JSON.stringify(span({ stringValue: 'a\ud800b' }))), 'application/json');
    assert.equal(lone.status, 200);
    await sink.waitForSpans(before + 1);
    const got = sink.spans().filter((s) => s.span.name === 'json').at(-1)!;
    assert.equal(got.span.attributes![0]!.value!.stringValue, 'a\ufffdb');
  });

  it('metrics and logs that are not their request message are refused, not passed through', async () => {
    const sink = sinks.get('sink')!;
    const before = sink.opaque.length;
    const notMetrics = Buffer.from([0x0a, 0x05, 0x0a]);
    const res = await post(http, '/v1/metrics', notMetrics);
    assert.equal(res.status, 400);
    assert.match(res.body.toString('utf8'), /malformed ExportMetricsServiceRequest: resource_metrics\[0\]: length 5 runs past/);
    const logs = grpcRefusal(await grpcCall(grpcPort, LOGS_EXPORT, Buffer.from([0x08, 0x01])));
    assert.equal(logs.code, grpc.status.INVALID_ARGUMENT);
    assert.match(logs.message, /malformed ExportLogsServiceRequest: resource_logs: wire type 0, expected 2/);
    const badScope = len(1, len(2, Buffer.from([0x0a, 0x04, 0x00])));
    const metrics = grpcRefusal(await grpcCall(grpcPort, METRICS_EXPORT, badScope));
    assert.match(metrics.message, /resource_metrics\[0\]\.scope_metrics\[0\]\.scope: length 4 runs past the end of the message/);
    assert.equal(sink.opaque.length, before);
    // Well framed: passed through byte for byte (records are not decoded).
    const ok = len(1, cat(len(1, resourcePayload()), len(2, cat(len(1, scopePayload()), len(2, 'a metric')))));
    assert.equal((await post(http, '/v1/metrics', ok)).status, 200);
    assert.ok(Buffer.isBuffer(await grpcCall(grpcPort, LOGS_EXPORT, ok)));
    assert.deepEqual(sink.opaque.slice(before).map((o) => [o.signal, Buffer.from(o.bytes).equals(ok)]), [['metrics', true], ['logs', true]]);
  });

  it('carries fields of newer OTLP versions at every level byte for byte (gRPC and HTTP)', async () => {
    const sink = sinks.get('sink')!;
    const future = requestWithUnknownFieldsEverywhere();
    const sends: (() => Promise<void>)[] = [
      async () => assert.ok(Buffer.isBuffer(await grpcCall(grpcPort, TRACE_EXPORT, future))),
      async () => assert.equal((await post(http, '/v1/traces', future)).status, 200),
    ];
    for (const send of sends) {
      await sleep(BATCH_MS + 100);
      const before = sink.batches.length;
      const spans = sink.spanCount();
      await send();
      await sink.waitForSpans(spans + 1);
      assert.equal(sink.batches.length, before + 1);
      assert.ok(Buffer.from(sink.batches.at(-1)!.bytes).equals(future), 'the batch is the request, byte for byte');
    }
  });

  it('fuzzed SDK requests (flip, insert, delete, truncate) are refused, or delivered decodable: never accepted and lost (property)', async () => {
    const sink = sinks.get('sink')!;
    await sleep(BATCH_MS + 100);
    const spansBefore = sink.spanCount();
    const batchesBefore = sink.batches.length;
    const base = Buffer.from(sdkRequest(2));
    let acceptedSpans = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (muts) => {
        let b: Buffer = base;
        for (const m of muts) b = mutate(b, m);
        let expected: number | undefined;
        try {
          expected = validateTraceRequest(b).spanCount;
        } catch {
          expected = undefined;
        }
        const res = await post(http, '/v1/traces', b);
        if (expected === undefined) {
          assert.equal(res.status, 400);
        } else {
          assert.equal(res.status, 200);
          acceptedSpans += expected;
        }
      }),
      { numRuns: 60 },
    );
    if (acceptedSpans > 0) await sink.waitForSpans(spansBefore + acceptedSpans);
    await sleep(BATCH_MS + 100);
    assert.equal(sink.spanCount(), spansBefore + acceptedSpans);
    for (const batch of sink.batches.slice(batchesBefore)) assert.doesNotThrow(() => decodeTraceRequest(batch.bytes));
  });
});
