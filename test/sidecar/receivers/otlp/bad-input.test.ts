// Bad input never crashes the receiver and always gets a clear, correctly coded answer.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import type { Service } from '../../../../sidecar/service/service.ts';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import { TRACE_EXPORT } from '../../../../sidecar/receivers/otlp/grpc.ts';
import { encodeTraceRequest } from '../../../../sidecar/pdata/otlp-schema.ts';
import { sinks, startService } from '../../../support/sink.ts';

const CONFIG = `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0, max_recv_msg_size_mib: 1 }
      http: { endpoint: 127.0.0.1:0, max_request_body_size: 65536 }
exporters:
  sink: {}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [sink] }
  telemetry: { metrics: { level: none } }
`;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function post(port: number, path: string, body: Buffer, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'Content-Length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function grpcExport(port: number, body: Buffer, compress = false): Promise<grpc.ServiceError | Buffer> {
  const raw = (b: Buffer) => b;
  const Client = grpc.makeGenericClientConstructor(
    { Export: { path: TRACE_EXPORT, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } },
    'TraceService',
  );
  const options: grpc.ClientOptions = compress ? { 'grpc.default_compression_algorithm': 2 } : {};
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
  return new Promise((resolve) => {
    client.makeUnaryRequest(TRACE_EXPORT, raw, raw, body, (err: grpc.ServiceError | null, res?: Buffer) => {
      client.close();
      resolve(err ?? res!);
    });
  });
}

function failed(res: grpc.ServiceError | Buffer): grpc.ServiceError {
  if (Buffer.isBuffer(res)) throw new Error('expected a gRPC error, got a response');
  return res;
}

const oneSpan = Buffer.from(
  encodeTraceRequest({
    resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 'ok', startTimeUnixNano: 1n, endTimeUnixNano: 2n }] }] }],
  }),
);

describe('otlp receiver bad input', () => {
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

  it('answers malformed protobuf over HTTP with 400 and a google.rpc.Status message', async () => {
    const res = await post(http, '/v1/traces', Buffer.from([0x0a, 0xff, 0x01, 0x02]), { 'Content-Type': 'application/x-protobuf' });
    assert.equal(res.status, 400);
    assert.equal(res.headers['content-type'], 'application/x-protobuf');
    assert.match(res.body.toString('latin1'), /malformed ExportTraceServiceRequest/);
  });

  it('answers malformed protobuf over gRPC with INVALID_ARGUMENT', async () => {
    const res = failed(await grpcExport(grpcPort, Buffer.from([0x0a, 0x05, 0x12, 0x03])));
    assert.equal(res.code, grpc.status.INVALID_ARGUMENT);
    assert.match(res.details, /malformed/);
  });

  it('rejects a trace ID of the wrong length as the collector does', async () => {
    const bad = Buffer.from(encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: Buffer.alloc(15, 1), spanId: Buffer.alloc(8, 2) }] }] }] }));
    const res = failed(await grpcExport(grpcPort, bad));
    assert.equal(res.code, grpc.status.INVALID_ARGUMENT);
    // The message names the path of the field (grpc-message is percent-encoded on the wire).
    assert.match(decodeURIComponent(res.details), /resource_spans\[0\]\.scope_spans\[0\]\.spans\[0\]\.trace_id: must be 16 bytes, got 15/);
  });

  it('answers malformed JSON with 400 in JSON', async () => {
    const res = await post(http, '/v1/traces', Buffer.from('{"resourceSpans": ['), { 'Content-Type': 'application/json' });
    assert.equal(res.status, 400);
    const body = JSON.parse(res.body.toString()) as { code: number; message: string };
    assert.equal(body.code, 3);
    assert.match(body.message, /malformed JSON/);
  });

  it('answers a bad hex trace ID in JSON with 400 naming the field', async () => {
    const doc = { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'xyz', spanId: '0102030405060708' }] }] }] };
    const res = await post(http, '/v1/traces', Buffer.from(JSON.stringify(doc)), { 'Content-Type': 'application/json' });
    assert.equal(res.status, 400);
    assert.match(res.body.toString(), /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId/);
  });

  it('ignores unknown JSON fields and accepts the spans', async () => {
    const before = sinks.get('sink')!.spanCount();
    const doc = {
      futureField: { x: 1 },
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cart' } }], newThing: true },
          scopeSpans: [{ spans: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'x', kind: 2, startTimeUnixNano: '1544712660000000000', endTimeUnixNano: 1544712661000000000, unknownSpanField: 'y' }] }],
        },
      ],
    };
    const res = await post(http, '/v1/traces', Buffer.from(JSON.stringify(doc)), { 'Content-Type': 'application/json' });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), '{}');
    assert.equal(sinks.get('sink')!.spanCount(), before + 1);
    const span = sinks.get('sink')!.spans().at(-1)!.span;
    assert.equal(Buffer.from(span.traceId!).toString('hex'), '5b8efff798038103d269b633813fc60c');
    assert.equal(BigInt(span.startTimeUnixNano!), 1544712660000000000n);
  });

  it('answers an unsupported content type with 415', async () => {
    const res = await post(http, '/v1/traces', Buffer.from('hello'), { 'Content-Type': 'text/plain' });
    assert.equal(res.status, 415);
    assert.match(res.body.toString(), /application\/x-protobuf or application\/json/);
  });

  it('answers an unsupported content encoding with 415', async () => {
    const res = await post(http, '/v1/traces', oneSpan, { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'br' });
    assert.equal(res.status, 415);
  });

  it('answers a body over the limit with 413 before reading it', async () => {
    const res = await post(http, '/v1/traces', Buffer.alloc(70_000), { 'Content-Type': 'application/x-protobuf' });
    assert.equal(res.status, 413);
    assert.match(res.body.toString('latin1'), /exceeds the limit of 65536 bytes/);
  });

  it('stops decompressing a gzip bomb at the limit and answers 413', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024)); // 50 MiB of zeros, ~50 KiB compressed
    assert.ok(bomb.length < 65536);
    const heapBefore = process.memoryUsage().heapUsed;
    const res = await post(http, '/v1/traces', bomb, { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'gzip' });
    assert.equal(res.status, 413);
    assert.match(res.body.toString('latin1'), /decompressed request body exceeds/);
    // Memory stays bounded: nowhere near the 50 MiB the bomb expands to.
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 20 * 1024 * 1024);
  });

  it('refuses a gRPC gzip bomb over max_recv_msg_size_mib with RESOURCE_EXHAUSTED', async () => {
    const big = Buffer.from(
      encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 'x'.repeat(3 * 1024 * 1024) }] }] }] }),
    );
    const res = failed(await grpcExport(grpcPort, big, true));
    assert.equal(res.code, grpc.status.RESOURCE_EXHAUSTED);
  });

  it('answers UNIMPLEMENTED for a signal no pipeline takes (here: metrics)', async () => {
    const raw = (b: Buffer) => b;
    const client = new grpc.Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.makeUnaryRequest('/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', raw, raw, Buffer.alloc(0), (e) => resolve(e)),
    );
    client.close();
    assert.equal(err?.code, grpc.status.UNIMPLEMENTED);
  });

  it('accepts deflate-compressed gRPC messages too', async () => {
    const raw = (b: Buffer) => b;
    const client = new grpc.Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure(), { 'grpc.default_compression_algorithm': 1 });
    const err = await new Promise<grpc.ServiceError | null>((resolve) => client.makeUnaryRequest(TRACE_EXPORT, raw, raw, oneSpan, (e) => resolve(e)));
    client.close();
    assert.equal(err, null);
  });

  it('answers 404 for unknown paths and 405 for GET', async () => {
    assert.equal((await post(http, '/v1/nothing', oneSpan, { 'Content-Type': 'application/x-protobuf' })).status, 404);
    const status = await new Promise<number>((resolve) => request({ host: '127.0.0.1', port: http, path: '/v1/traces' }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).end());
    assert.equal(status, 405);
  });

  it('keeps serving after all of the above', async () => {
    const res = await post(http, '/v1/traces', oneSpan, { 'Content-Type': 'application/x-protobuf' });
    assert.equal(res.status, 200);
    const g = await grpcExport(grpcPort, oneSpan);
    assert.ok(g instanceof Buffer);
  });

  it('answers 503 with Retry-After when the pipeline refuses for now', async () => {
    const sink = sinks.get('sink')!;
    sink.mode = 'refuse';
    try {
      const res = await post(http, '/v1/traces', oneSpan, { 'Content-Type': 'application/x-protobuf' });
      assert.equal(res.status, 503);
      assert.equal(res.headers['retry-after'], '2');
      const g = failed(await grpcExport(grpcPort, oneSpan));
      assert.equal(g.code, grpc.status.UNAVAILABLE);
      assert.match(svc.metrics.render(), /otelcol_receiver_refused_spans_total\{receiver="otlp",transport="http"\} 1/);
    } finally {
      sink.mode = 'accept';
    }
  });
});
