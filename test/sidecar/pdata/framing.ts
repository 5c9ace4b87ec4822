// Hand-framed protobuf for tests: every byte of a request chosen on purpose, so a test can break
// exactly one nested message (an attribute value, an event, a link...) and leave the rest valid.
// Field numbers: opentelemetry-proto (see sidecar/pdata/fields.ts). Also: SDK-encoded requests
// and the byte mutations the fuzz tests apply to them.
import fc from 'fast-check';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';

type Part = Uint8Array | string;

export function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

const bytes = (p: Part): Buffer => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p));

/** A LEN field: tag, length, the parts concatenated. */
export function len(field: number, ...parts: Part[]): Buffer {
  const payload = Buffer.concat(parts.map(bytes));
  return Buffer.concat([varint((field << 3) | 2), varint(payload.length), payload]);
}

/** A VARINT field. */
export function vint(field: number, n: number | bigint): Buffer {
  return Buffer.concat([varint(field << 3), varint(n)]);
}

export function fixed64(field: number, n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, n));
  return Buffer.concat([varint((field << 3) | 1), b]);
}

export function fixed32(field: number, n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return Buffer.concat([varint((field << 3) | 5), b]);
}

/** A group (wire types 3 and 4) holding `parts`: unused by OTLP, legal as an unknown field. */
export function group(field: number, ...parts: Part[]): Buffer {
  return Buffer.concat([varint((field << 3) | 3), ...parts.map(bytes), varint((field << 3) | 4)]);
}

export const cat = (...parts: Part[]): Buffer => Buffer.concat(parts.map(bytes));

// AnyValue payloads.
export const anyString = (s: Part): Buffer => len(1, s);
export const anyInt = (n: number | bigint): Buffer => vint(3, n);
export const anyArray = (...values: Buffer[]): Buffer => len(5, ...values.map((v) => len(1, v)));
export const anyKvlist = (...kvs: Buffer[]): Buffer => len(6, ...kvs.map((kv) => len(1, kv)));

/** KeyValue payload. */
export const kv = (key: Part, value: Buffer): Buffer => cat(len(1, key), len(2, value));

export const TRACE_ID = Buffer.from('5b8efff798038103d269b633813fc60c', 'hex');
export const SPAN_ID = Buffer.from('eee19b7ec3c1b174', 'hex');
export const START = 1_700_000_000_000_000_000n;

/** A valid span payload; `extra` fields are appended (fields may come in any order). */
export function spanPayload(...extra: Buffer[]): Buffer {
  return cat(
    len(1, TRACE_ID),
    len(2, SPAN_ID),
    len(5, 'GET /orders'),
    vint(6, 2),
    fixed64(7, START),
    fixed64(8, START + 1_000_000n),
    len(9, kv('http.method', anyString('GET'))),
    ...extra,
  );
}

export const eventPayload = (...extra: Buffer[]): Buffer => cat(fixed64(1, START), len(2, 'retry'), len(3, kv('attempt', anyInt(2))), ...extra);
export const linkPayload = (...extra: Buffer[]): Buffer => cat(len(1, TRACE_ID), len(2, SPAN_ID), len(4, kv('l', anyString('v'))), ...extra);
export const statusPayload = (...extra: Buffer[]): Buffer => cat(len(2, 'boom'), vint(3, 2), ...extra);
export const resourcePayload = (...extra: Buffer[]): Buffer => cat(len(1, kv('service.name', anyString('checkout'))), ...extra);
export const scopePayload = (...extra: Buffer[]): Buffer => cat(len(1, 'io.opentelemetry.http'), len(2, '1.0.0'), ...extra);

export interface RequestParts {
  resource?: Buffer;
  scope?: Buffer;
  spans?: Buffer[];
  /** Extra fields of the ResourceSpans / ScopeSpans / request. */
  resourceSpansExtra?: Buffer[];
  scopeSpansExtra?: Buffer[];
  requestExtra?: Buffer[];
}

/** An ExportTraceServiceRequest with one ResourceSpans holding one ScopeSpans. */
export function traceRequest(p: RequestParts = {}): Buffer {
  const scopeSpans = cat(len(1, p.scope ?? scopePayload()), ...(p.spans ?? [spanPayload()]).map((s) => len(2, s)), ...(p.scopeSpansExtra ?? []));
  const resourceSpans = cat(len(1, p.resource ?? resourcePayload()), len(2, scopeSpans), ...(p.resourceSpansExtra ?? []));
  return cat(len(1, resourceSpans), ...(p.requestExtra ?? []));
}

/** Unknown fields of every wire type (a newer OTLP's), nested group included. */
export function unknownFields(): Buffer {
  return cat(vint(90, 7), fixed64(91, 1n), len(92, 'future'), fixed32(93, 5), group(94, vint(1, 1), group(2, len(3, 'x'))));
}

/** A valid request with unknown fields at every level of the trace schema. */
export function requestWithUnknownFieldsEverywhere(): Buffer {
  const u = unknownFields;
  return traceRequest({
    requestExtra: [u()],
    resourceSpansExtra: [u()],
    scopeSpansExtra: [u()],
    resource: resourcePayload(u(), len(1, cat(kv('k', cat(anyString('v'), u())), u())), len(3, cat(len(2, 'service'), u()))),
    scope: scopePayload(u()),
    spans: [
      spanPayload(
        u(),
        len(9, kv('arr', cat(anyArray(cat(anyInt(1), u())), u()))),
        len(9, kv('map', anyKvlist(cat(kv('a', anyString('b')), u())))),
        len(11, eventPayload(u())),
        len(13, linkPayload(u())),
        len(15, statusPayload(u())),
      ),
    ],
  });
}

/** An AnyValue payload holding `depth` nested array_values around `leaf` (an AnyValue payload). */
export function nestedArrays(depth: number, leaf = anyString('leaf')): Buffer {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = anyArray(v);
  return v;
}

/** The SDK's encoding of a few spans with events, links, status, nested attribute values and non-ASCII strings. */
export function sdkRequest(spans = 3): Uint8Array {
  const mem = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'host.arch': ['amd64', 'arm64'], 'k8s.pod.uid': 'é-ü-漢' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: mem })],
  });
  const tracer = provider.getTracer('fuzz', '1.2.3');
  for (let i = 0; i < spans; i++) {
    const s = tracer.startSpan(`op-${i}`, { attributes: { i, s: 'x'.repeat(i), ok: true, ratio: 0.5, list: [1, 2, 3], names: ['a', 'ß'] } });
    s.addEvent('retry', { attempt: i });
    s.addLink({ context: s.spanContext(), attributes: { kind: 'self' } });
    s.setStatus({ code: 2, message: 'failed' });
    s.end();
  }
  return ProtobufTraceSerializer.serializeRequest(mem.getFinishedSpans())!;
}

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'insert'; at: number; byte: number }
  | { kind: 'delete'; at: number }
  | { kind: 'truncate'; at: number };

/** Random byte mutations: flip a bit, insert a byte, delete a byte, truncate. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

export function mutate(b: Buffer, m: Mutation): Buffer {
  const at = b.length === 0 ? 0 : m.at % (b.length + 1);
  switch (m.kind) {
    case 'flip': {
      if (b.length === 0) return b;
      const out = Buffer.from(b);
      out[at % b.length]! ^= 1 << m.bit;
      return out;
    }
    case 'insert':
      return Buffer.concat([b.subarray(0, at), Buffer.from([m.byte]), b.subarray(at)]);
    case 'delete':
      return Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
    case 'truncate':
      return b.subarray(0, at);
  }
}

