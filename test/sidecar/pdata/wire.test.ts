// The wire primitives and the indexed view against an independent encoder (the OpenTelemetry JS
// otlp-transformer), and the lossless promise: fields this schema does not know reach the exporter
// byte for byte.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { countSpans, MAX_MESSAGE_DEPTH, WireFormatError, WireReader } from '../../../sidecar/pdata/wire.ts';
import { indexTraceRequest, startTimeUnixNano, validateTraceRequest } from '../../../sidecar/pdata/trace-view.ts';
import { TracesData } from '../../../sidecar/pdata/traces.ts';
import { decodeTraceRequest, encodeTraceRequest } from '../../../sidecar/pdata/otlp-schema.ts';
import type { OtlpReceiver } from '../../../sidecar/receivers/otlp/receiver.ts';
import { sinks, startService } from '../../support/sink.ts';
import * as grpc from '@grpc/grpc-js';
import { TRACE_EXPORT } from '../../../sidecar/receivers/otlp/grpc.ts';

function sdkRequest(spans: number, services = 1): { bytes: Uint8Array; traceIds: string[]; starts: bigint[] } {
  const all: Parameters<typeof ProtobufTraceSerializer.serializeRequest>[0] = [];
  for (let s = 0; s < services; s++) {
    const mem = new InMemorySpanExporter();
    const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': `svc-${s}` }), spanProcessors: [new SimpleSpanProcessor({ exporter: mem })] });
    const tracer = provider.getTracer('t');
    for (let i = 0; i < spans; i++) tracer.startSpan(`op-${i}`, { attributes: { i, s: 'x'.repeat(i) } }).end();
    all.push(...mem.getFinishedSpans());
  }
  const bytes = ProtobufTraceSerializer.serializeRequest(all)!;
  return {
    bytes,
    traceIds: all.map((s) => s.spanContext().traceId),
    starts: all.map((s) => BigInt(s.startTime[0]) * 1_000_000_000n + BigInt(s.startTime[1])),
  };
}

// Appends an unknown field (number `field`, LEN) inside the first message with tag `path`.
function unknownLen(field: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, payload.length]), payload]);
}

describe('wire format and trace view', () => {
  it('counts spans and finds every trace ID and start time in the SDK encoder output', () => {
    const { bytes, traceIds, starts } = sdkRequest(7, 3);
    const seen: string[] = [];
    const seenStarts: number[] = [];
    const view = validateTraceRequest(bytes);
    for (let k = 0; k < view.spanCount; k++) {
      seen.push(Buffer.from(bytes.subarray(view.traceIdOffset(k), view.traceIdOffset(k) + 16)).toString('hex'));
      seenStarts.push(startTimeUnixNano(view, bytes, k));
    }
    assert.equal(view.spanCount, 21);
    assert.equal(view.resourceSpansCount, 3);
    assert.deepEqual(seen.sort(), [...traceIds].sort());
    // fixed64 read as a double: within 1 µs of the exact value.
    const exact = starts.map(Number).sort();
    seenStarts.sort().forEach((v, i) => assert.ok(Math.abs(v - exact[i]!) < 1000));
  });

  it('agrees with the protobufjs decoder on random requests (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.record({ name: fc.string(), traceId: fc.uint8Array({ minLength: 16, maxLength: 16 }), links: fc.nat(3) }), { maxLength: 5 }), { maxLength: 4 }),
        (resources) => {
          const req = {
            resourceSpans: resources.map((spans) => ({
              scopeSpans: [{ spans: spans.map((s) => ({ name: s.name, traceId: s.traceId, spanId: Buffer.alloc(8, 1), links: Array.from({ length: s.links }, () => ({ traceId: s.traceId })) })) }],
            })),
          };
          const bytes = encodeTraceRequest(req);
          const view = indexTraceRequest(bytes);
          let links = 0;
          for (let k = 0; k < view.spanCount; k++) links += view.linkCount(k);
          assert.equal(view.spanCount, resources.flat().length);
          assert.equal(links, resources.flat().reduce((a, s) => a + s.links, 0));
        },
      ),
    );
  });

  it('rejects truncated input and wrong wire types without throwing anything else', () => {
    const { bytes } = sdkRequest(3);
    for (let cut = 1; cut < bytes.length; cut += 7) {
      try {
        countSpans(bytes.subarray(0, cut));
      } catch (err) {
        assert.ok(err instanceof WireFormatError, String(err));
      }
    }
    assert.throws(() => validateTraceRequest(Buffer.from([0x08, 0x01])), /resource_spans: wire type 0, expected 2/);
  });

  it('reads 32-bit varints as protobufjs does: up to 5 bytes, or 10 for a negative int32', () => {
    const read = (bytes: number[]) => new WireReader(Buffer.from(bytes)).varint32();
    assert.equal(read([0xff, 0xff, 0xff, 0xff, 0x0f]), 0xffffffff);
    assert.equal(read([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 2 ** 64 - 1);
    for (let n = 6; n <= 9; n++) assert.throws(() => read([...Array<number>(n - 1).fill(0x80), 0x00]), new RegExp(`${n}-byte varint in a 32-bit field`));
    assert.throws(() => new WireReader(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x08])).tag(), /tag longer than 32 bits/);
    assert.throws(() => new WireReader(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00])).lenEnd(), /length prefix longer than 5 bytes/);
  });

  it('skips unknown groups (nested, end tag matching), within the message depth limit', () => {
    const skipGroup = (bytes: number[], field: number) => {
      const r = new WireReader(Buffer.from(bytes));
      r.skip(3, field);
      return r.pos;
    };
    // group 5 { 1: varint 1, group 6 { } } then one more byte
    assert.equal(skipGroup([0x08, 0x01, 0x33, 0x34, 0x2c, 0xff], 5), 5);
    assert.throws(() => skipGroup([0x08, 0x01, 0x34], 5), /group 5 closed by the end tag of 6/);
    assert.throws(() => skipGroup([0x08, 0x01], 5), /group not closed/);
    const deep = [...Array<number>(MAX_MESSAGE_DEPTH + 1).fill(0x33), ...Array<number>(MAX_MESSAGE_DEPTH + 1).fill(0x34), 0x2c];
    assert.throws(() => skipGroup(deep, 5), WireFormatError);
    assert.throws(() => new WireReader(Buffer.from([])).skip(4), /end of a group that was not started/);
  });

  it('batches by concatenation into a request holding every span', () => {
    const a = TracesData.fromProto(sdkRequest(2).bytes);
    const b = TracesData.fromProto(sdkRequest(3).bytes);
    const c = TracesData.concat([a, b]);
    assert.equal(c.spanCount, 5);
    assert.equal(countSpans(c.bytes), 5);
    assert.equal(decodeTraceRequest(c.bytes).resourceSpans!.length, 2);
  });

  it('passes fields the schema does not know through a running pipeline byte for byte', async () => {
    const svc = await startService(`
receivers: { otlp: { protocols: { grpc: { endpoint: 127.0.0.1:0 } } } }
processors: { batch: { timeout: 10ms } }
exporters: { sink: {} }
service:
  pipelines: { traces: { receivers: [otlp], processors: [batch], exporters: [sink] } }
  telemetry: { metrics: { level: none } }
`);
    try {
      // A request from a "newer OTLP": an unknown top-level field, plus the SDK's request.
      const future = Buffer.concat([Buffer.from(sdkRequest(2).bytes), unknownLen(99, Buffer.from('from-the-future'))]);
      const port = (svc.receivers.get('otlp') as OtlpReceiver).grpc!.port;
      const raw = (b: Buffer) => b;
      const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      await new Promise<void>((resolve, reject) =>
        client.makeUnaryRequest(TRACE_EXPORT, raw, raw, future, (err) => (err ? reject(err) : resolve())),
      );
      client.close();
      const sink = sinks.get('sink')!;
      await sink.waitForSpans(2);
      assert.deepEqual(Buffer.from(sink.batches[0]!.bytes), future);
    } finally {
      await svc.shutdown();
    }
  });

  it('accepts what the SDK gRPC exporter sends (cross-check end to end)', async () => {
    const svc = await startService(`
receivers: { otlp: { protocols: { grpc: { endpoint: 127.0.0.1:0 } } } }
exporters: { sink: {} }
service: { pipelines: { traces: { receivers: [otlp], exporters: [sink] } }, telemetry: { metrics: { level: none } } }
`);
    try {
      const port = (svc.receivers.get('otlp') as OtlpReceiver).grpc!.port;
      const mem = new OTLPTraceExporter({ url: `http://127.0.0.1:${port}` });
      const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: mem })] });
      provider.getTracer('t').startSpan('x').end();
      await provider.forceFlush();
      await provider.shutdown();
      await sinks.get('sink')!.waitForSpans(1);
    } finally {
      await svc.shutdown();
    }
  });
});
