// The OTLP/gRPC receiver's transport held to grpc-go's standard, driven by real clients: gRPC
// C-core (python3 grpcio), node:http2, and hand-made HTTP/2 frames for what clients send only in
// races (an RST_STREAM for a stream never opened, a call cut off at its deadline).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { deflateSync, gzipSync, zstdCompressSync } from 'node:zlib';
import type { Service } from '../../../../sidecar/service/service.ts';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import { TRACE_EXPORT } from '../../../../sidecar/receivers/otlp/grpc.ts';
import { maskedCrc32c } from '../../../../sidecar/receivers/otlp/snappy.ts';
import { sinks, startService } from '../../../support/sink.ts';
import { FrameType, GRPC_CORE_SETTINGS, RawH2Connection, dataFrame, grpcMessage, grpcRequestHeaders, headersFrame, rstStreamFrame } from './testdata/raw-h2.ts';
import { grpcFrame, openSession, startCall, call, type GrpcAnswer } from './testdata/h2-call.ts';
import { PYTHON, pythonCalls as runPython } from './testdata/python-client.ts';
import { tinySpans as spans } from '../../../support/spans.ts';
import { RetryInfoType as RetryInfo, RpcStatusType as RpcStatus } from '../../../support/rpc-status-proto.ts';

const pythonCalls = (port: number, request: Buffer, opts: Parameters<typeof runPython>[3] = {}) => runPython(port, TRACE_EXPORT, request, opts);

const MiB = 1024 * 1024;

const CONFIG = `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0, max_recv_msg_size_mib: 1 }
exporters:
  sink: {}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [sink] }
  telemetry: { metrics: { level: none } }
`;

const Status = { OK: 0, CANCELLED: 1, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13 } as const;


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw snappy block of `data`, by python-snappy (the C++ library): an independent encoder. */
function snappyBlock(data: Buffer): Buffer {
  const r = spawnSync(PYTHON, ['-c', 'import sys, snappy; sys.stdout.buffer.write(snappy.compress(sys.stdin.buffer.read()))'], { input: data });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

/** The snappy framing format around independently compressed blocks of at most 64 KiB. */
function snappyFramed(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59])];
  for (let at = 0; at < data.length; at += 65536) {
    const piece = data.subarray(at, at + 65536);
    const block = snappyBlock(piece);
    const head = Buffer.alloc(8);
    head[0] = 0x00;
    head.writeUIntLE(block.length + 4, 1, 3);
    head.writeUInt32LE(maskedCrc32c(piece), 4);
    parts.push(head, block);
  }
  return Buffer.concat(parts);
}

describe('otlp receiver gRPC transport', function () {
  this.timeout(20_000);
  let svc: Service;
  let port: number;
  const sink = () => sinks.get('sink')!;

  before(async () => {
    svc = await startService(CONFIG);
    port = (svc.receivers.get('otlp') as OtlpReceiver).grpc!.port;
  });
  after(() => svc.shutdown());

  async function assertNothingIngested(before: number): Promise<void> {
    await sleep(300);
    assert.equal(sink().spanCount(), before, 'spans of an incomplete call were ingested');
  }

  describe('limits', () => {
    it('announces at most 100 concurrent streams per connection', async () => {
      const c = await RawH2Connection.open(port);
      try {
        await c.waitFor(() => c.frames.some((f) => f.type === FrameType.SETTINGS && f.flags === 0), 3000, 'server SETTINGS');
        const settings = c.frames.find((f) => f.type === FrameType.SETTINGS && f.flags === 0)!.payload;
        let maxStreams: number | undefined;
        for (let i = 0; i + 6 <= settings.length; i += 6) if (settings.readUInt16BE(i) === 0x3) maxStreams = settings.readUInt32BE(i + 2);
        assert.equal(maxStreams, 100);
      } finally {
        c.close();
      }
    });

    it('takes a message larger than the default flow-control windows whole (WINDOW_UPDATEs as it is read)', async () => {
      // A message near the receiver's 1 MiB limit, larger than both default windows, goes through whole.
      const big = spans(15_000);
      assert.ok(big.length > 800 * 1024 && big.length < MiB, `request of ${big.length} bytes`);
      const before = sink().spanCount();
      const a = await call(port, TRACE_EXPORT, grpcFrame(big));
      assert.equal(a.grpcStatus, Status.OK, a.grpcMessage);
      assert.equal(sink().spanCount(), before + 15_000);
    });

    it('refuses a message over the limit from its 5-byte prefix, naming its real size', async () => {
      const session = await openSession(port);
      try {
        const prefix = Buffer.alloc(5);
        prefix.writeUInt32BE(5 * MiB, 1);
        const { answer } = startCall(session, TRACE_EXPORT, prefix, { end: false });
        const a = await answer;
        assert.equal(a.grpcStatus, Status.RESOURCE_EXHAUSTED);
        assert.equal(a.grpcMessage, `Received message larger than max (${5 * MiB} vs. ${MiB})`);
      } finally {
        session.close();
      }
    });

    it('refuses calls beyond the in-flight byte budget with RESOURCE_EXHAUSTED at once, and frees it when calls end', async () => {
      // 1 MiB messages, held half-sent; the default budget is 32 MiB across all connections.
      const sessions = [await openSession(port), await openSession(port)];
      try {
        const prefix = Buffer.concat([Buffer.from([0, 0, 0x10, 0, 0]), Buffer.alloc(1024)]);
        const calls = Array.from({ length: 40 }, (_, i) => startCall(sessions[i % 2]!, TRACE_EXPORT, prefix, { end: false }));
        const refused: GrpcAnswer[] = [];
        await Promise.race([Promise.all(calls.map((c) => c.answer.then((a) => refused.push(a)))), sleep(1500)]);
        assert.equal(refused.length, 8, 'calls beyond 32 MiB in flight were not refused at once');
        for (const a of refused) {
          assert.equal(a.grpcStatus, Status.RESOURCE_EXHAUSTED);
          assert.match(a.grpcMessage, /in flight/);
          // The OTLP specification (and the collector's and the Go SDK's exporters) retry
          // RESOURCE_EXHAUSTED only when the status carries a RetryInfo; without one they drop the
          // spans. Decoded here with protobufjs, not the sidecar's reader.
          const details = a.headers['grpc-status-details-bin'];
          assert.equal(typeof details, 'string', 'no grpc-status-details-bin: spec-following clients drop these spans');
          const status = RpcStatus.decode(Buffer.from(String(details), 'base64')) as unknown as { code: number; message: string; details: { type_url: string; value: Uint8Array }[] };
          assert.equal(status.code, Status.RESOURCE_EXHAUSTED);
          assert.equal(status.message, a.grpcMessage);
          assert.equal(status.details.length, 1);
          assert.equal(status.details[0]!.type_url, 'type.googleapis.com/google.rpc.RetryInfo');
          const info = RetryInfo.decode(status.details[0]!.value) as unknown as { retry_delay: { seconds: unknown; nanos: number } };
          assert.equal(Number(info.retry_delay.seconds) * 1000 + info.retry_delay.nanos / 1e6, 1000);
        }
        for (const c of calls) c.stream.close();
        await sleep(100);
        const a = await call(port, TRACE_EXPORT, grpcFrame(spans(1)));
        assert.equal(a.grpcStatus, Status.OK, a.grpcMessage);
      } finally {
        for (const s of sessions) s.close();
      }
    });
  });

  describe('cancelled and reset calls', () => {
    it('ignores an RST_STREAM for a stream a C-core client never opened: the other calls on the connection succeed', async () => {
      const before = sink().spanCount();
      const c = await RawH2Connection.open(port, GRPC_CORE_SETTINGS);
      try {
        const first = grpcMessage(spans(3, 'a'));
        c.send(headersFrame(1, grpcRequestHeaders(TRACE_EXPORT)));
        c.send(dataFrame(1, first.subarray(0, 10)));
        // What gRPC C-core sends for a call that timed out before its HEADERS left (grpc/grpc#19655).
        c.send(rstStreamFrame(5));
        c.send(dataFrame(1, first.subarray(10), true));
        c.send(headersFrame(3, grpcRequestHeaders(TRACE_EXPORT)));
        c.send(dataFrame(3, grpcMessage(spans(2, 'b')), true));
        await c.waitFor(() => c.ended(1) !== undefined && c.ended(3) !== undefined, 3000, 'both calls answered');
        assert.equal(c.goaway(), undefined, 'the server closed the connection');
        assert.equal(c.ended(1)!.type, FrameType.HEADERS);
        assert.equal(c.ended(3)!.type, FrameType.HEADERS);
        await sink().waitForSpans(before + 5);
      } finally {
        c.close();
      }
    });

    it('never ingests a call the client reset before ending it (a grpc-go client giving up at its deadline)', async () => {
      const before = sink().spanCount();
      const c = await RawH2Connection.open(port);
      try {
        c.send(headersFrame(1, grpcRequestHeaders(TRACE_EXPORT)));
        c.send(dataFrame(1, grpcMessage(spans(4))));
        await sleep(50);
        c.send(rstStreamFrame(1));
        await assertNothingIngested(before);
        // The connection still serves calls.
        c.send(headersFrame(3, grpcRequestHeaders(TRACE_EXPORT)));
        c.send(dataFrame(3, grpcMessage(spans(1)), true));
        await c.waitFor(() => c.ended(3) !== undefined, 3000, 'the next call answered');
        await sink().waitForSpans(before + 1);
      } finally {
        c.close();
      }
    });

    it('answers DEADLINE_EXCEEDED when grpc-timeout expires before the call is complete, and never ingests it', async () => {
      const before = sink().spanCount();
      const session = await openSession(port);
      try {
        const framed = grpcFrame(spans(2));
        const { stream, answer } = startCall(session, TRACE_EXPORT, framed.subarray(0, 20), { end: false, headers: { 'grpc-timeout': '200m' } });
        const a = await Promise.race([answer, sleep(2000).then(() => undefined)]);
        assert.ok(a, 'no answer after the deadline');
        assert.equal(a.grpcStatus, Status.DEADLINE_EXCEEDED);
        if (!stream.destroyed) stream.end(framed.subarray(20));
        await assertNothingIngested(before);
      } finally {
        session.close();
      }
    });

    it('refuses a malformed grpc-timeout', async () => {
      const a = await call(port, TRACE_EXPORT, grpcFrame(spans(1)), { 'grpc-timeout': '12x' });
      assert.equal(a.httpStatus, 400);
      assert.equal(a.grpcStatus, Status.INTERNAL);
      assert.match(a.grpcMessage, /grpc-timeout/);
    });

    it('C-core: many concurrent calls with deadlines on one channel all succeed', async () => {
      const before = sink().spanCount();
      const results = await pythonCalls(port, spans(10), { count: 60, timeoutS: 10 });
      assert.deepEqual(new Set(results.map((r) => r.code)), new Set(['OK']));
      assert.equal(sink().spanCount(), before + 600);
    });
  });

  describe('compression', () => {
    for (const compression of ['gzip', 'deflate']) {
      it(`C-core client with ${compression}`, async () => {
        const before = sink().spanCount();
        assert.deepEqual(await pythonCalls(port, spans(7), { compression }), [{ code: 'OK', details: '' }]);
        assert.equal(sink().spanCount(), before + 7);
      });
    }

    const encoders: Record<string, (b: Buffer) => Buffer> = {
      gzip: (b) => gzipSync(b),
      deflate: (b) => deflateSync(b),
      zstd: (b) => zstdCompressSync(b),
      snappy: snappyFramed,
      'snappy (a bare block)': snappyBlock,
    };
    for (const [name, encode] of Object.entries(encoders)) {
      it(`grpc-encoding ${name}: the spans arrive`, async () => {
        const before = sink().spanCount();
        const request = spans(300, name);
        const a = await call(port, TRACE_EXPORT, grpcFrame(encode(request), true), { 'grpc-encoding': name.split(' ')[0]! });
        assert.equal(a.grpcStatus, Status.OK, a.grpcMessage);
        assert.equal(sink().spanCount(), before + 300);
        assert.equal(sink().spans().at(-1)!.span.name, `${name}299`);
      });
    }

    it('refuses a zstd bomb with RESOURCE_EXHAUSTED', async () => {
      const a = await call(port, TRACE_EXPORT, grpcFrame(zstdCompressSync(Buffer.alloc(64 * MiB)), true), { 'grpc-encoding': 'zstd' });
      assert.equal(a.grpcStatus, Status.RESOURCE_EXHAUSTED);
      assert.match(a.grpcMessage, /larger than max/);
    });

    it('answers an unsupported encoding with UNIMPLEMENTED and the supported ones in grpc-accept-encoding', async () => {
      const a = await call(port, TRACE_EXPORT, grpcFrame(Buffer.from('x'), true), { 'grpc-encoding': 'br' });
      assert.equal(a.grpcStatus, Status.UNIMPLEMENTED);
      assert.match(a.grpcMessage, /br/);
      assert.deepEqual(String(a.headers['grpc-accept-encoding']).split(','), ['identity', 'gzip', 'deflate', 'zstd', 'snappy']);
    });

    it('answers the compressed flag without a grpc-encoding with INTERNAL', async () => {
      for (const headers of [{}, { 'grpc-encoding': 'identity' }] as Record<string, string>[]) {
        const a = await call(port, TRACE_EXPORT, grpcFrame(gzipSync(spans(1)), true), headers);
        assert.equal(a.grpcStatus, Status.INTERNAL);
        assert.match(a.grpcMessage, /compressed flag/);
      }
    });
  });

  describe('content types', () => {
    it('refuses gRPC-Web with 415 and INVALID_ARGUMENT, as grpc-go does', async () => {
      for (const type of ['application/grpc-web', 'application/grpc-web+proto', 'application/json']) {
        const a = await call(port, TRACE_EXPORT, grpcFrame(spans(1)), { 'content-type': type });
        assert.equal(a.httpStatus, 415, type);
        assert.equal(a.grpcStatus, Status.INVALID_ARGUMENT, type);
        assert.match(a.grpcMessage, /content-type/);
      }
    });

    it('refuses application/grpc+json with INTERNAL: only protobuf messages are read', async () => {
      const a = await call(port, TRACE_EXPORT, grpcFrame(Buffer.from('{}')), { 'content-type': 'application/grpc+json' });
      assert.equal(a.httpStatus, 200);
      assert.equal(a.grpcStatus, Status.INTERNAL);
      assert.match(a.grpcMessage, /application\/grpc\+json/);
    });

    it('accepts application/grpc+proto', async () => {
      const a = await call(port, TRACE_EXPORT, grpcFrame(spans(1)), { 'content-type': 'application/grpc+proto' });
      assert.equal(a.grpcStatus, Status.OK, a.grpcMessage);
    });
  });

  it('keeps serving after a client sends garbage instead of HTTP/2', async () => {
    const c = await RawH2Connection.open(port);
    c.send(Buffer.from('GET / HTTP/1.1\r\n\r\n'.repeat(10)));
    await c.waitFor(() => c.closed, 3000, 'the bad connection closed');
    const a = await call(port, TRACE_EXPORT, grpcFrame(spans(1)));
    assert.equal(a.grpcStatus, Status.OK);
  });
});
