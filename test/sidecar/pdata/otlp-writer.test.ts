// The hand-written OTLP writer against protobufjs (the encoder it replaced) and the sidecar's own
// wire validator, over generated requests: unicode and lone surrogates, empty strings, 0 /
// negative / 64-bit integers given as bigint, number or decimal text, doubles (NaN, -0,
// infinities), nested arrays and kvlists, bytes, and optional fields present or absent.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeTraceRequest,
  type AnyValue,
  type ExportTraceServiceRequest,
  type KeyValue,
} from '../../../sidecar/pdata/otlp-schema.ts';
import { writeTraceRequest } from '../../../sidecar/pdata/otlp-writer.ts';
import { TracesData } from '../../../sidecar/pdata/traces.ts';
import { validateTraceRequest } from '../../../sidecar/pdata/trace-view.ts';
import { assertWritesLikeProtobufjs } from './writer-check.ts';
import { collectGarbage } from '../../support/gc.ts';

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.constantFrom('', 'a\ud800b', '\udc00', '😀'.repeat(30), 'x'.repeat(200), 'é'.repeat(64)),
);
const int64 = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.integer(),
  fc.constantFrom(0, -1, 1, 127, 128, 2 ** 31, -(2 ** 31), Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 60),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
);
const fixed64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  fc.constantFrom(0n, 1n, 1_732_000_000_123_456_789n, 0, 1_732_000_000_000, '1732000000123456789'),
);
const uint32 = fc.oneof(fc.constantFrom(0, 1, 127, 128, 2 ** 32 - 1), fc.nat());
const bytes = fc.uint8Array({ maxLength: 40 });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const { anyValue } = fc.letrec<{ anyValue: AnyValue; keyValue: KeyValue }>((tie) => ({
  anyValue: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text.map((stringValue) => ({ stringValue })),
    fc.boolean().map((boolValue) => ({ boolValue })),
    int64.map((intValue) => ({ intValue })),
    fc.double().map((doubleValue) => ({ doubleValue })),
    bytes.map((bytesValue) => ({ bytesValue })),
    fc.array(tie('anyValue'), { maxLength: 4 }).map((values) => ({ arrayValue: { values } })),
    fc.array(tie('keyValue'), { maxLength: 4 }).map((values) => ({ kvlistValue: { values } })),
    fc.constant({}),
  ),
  keyValue: fc.record({ key: text, value: opt(tie('anyValue')) }, { requiredKeys: ['key'] }),
}));
const attributes = fc.array(fc.record({ key: text, value: opt(anyValue) }, { requiredKeys: ['key'] }), { maxLength: 5 });

const span = fc.record({
  traceId: fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.constant(new Uint8Array(0))),
  spanId: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  traceState: text,
  parentSpanId: fc.oneof(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.constant(new Uint8Array(0))),
  flags: uint32,
  name: text,
  kind: fc.integer({ min: 0, max: 5 }),
  startTimeUnixNano: fixed64,
  endTimeUnixNano: fixed64,
  attributes,
  droppedAttributesCount: uint32,
  events: fc.array(fc.record({ timeUnixNano: fixed64, name: text, attributes, droppedAttributesCount: uint32 }, { requiredKeys: [] }), { maxLength: 3 }),
  droppedEventsCount: uint32,
  links: fc.array(
    fc.record(
      { traceId: fc.uint8Array({ minLength: 16, maxLength: 16 }), spanId: fc.uint8Array({ minLength: 8, maxLength: 8 }), traceState: text, attributes, droppedAttributesCount: uint32, flags: uint32 },
      { requiredKeys: [] },
    ),
    { maxLength: 2 },
  ),
  droppedLinksCount: uint32,
  status: fc.record({ message: text, code: fc.integer({ min: 0, max: 2 }) }, { requiredKeys: [] }),
}, { requiredKeys: [] });

const request: fc.Arbitrary<ExportTraceServiceRequest> = fc.record({
  resourceSpans: fc.array(
    fc.record({
      resource: fc.record({ attributes, droppedAttributesCount: uint32 }, { requiredKeys: [] }),
      scopeSpans: fc.array(
        fc.record({
          scope: fc.record({ name: text, version: text, attributes, droppedAttributesCount: uint32 }, { requiredKeys: [] }),
          spans: fc.array(span, { maxLength: 4 }),
          schemaUrl: text,
        }, { requiredKeys: [] }),
        { maxLength: 3 },
      ),
      schemaUrl: text,
    }, { requiredKeys: [] }),
    { maxLength: 3 },
  ),
}, { requiredKeys: [] });

describe('OTLP protobuf writer', () => {
  it('property: any request encodes to protobufjs\'s bytes, validates, and round-trips through decode and re-encode', () => {
    fc.assert(fc.property(request, (req) => {
      assertWritesLikeProtobufjs(req);
    }), { numRuns: 400 });
  });

  it('writes canonical lengths across the 1/2/3-byte varint boundaries of nested messages and strings', () => {
    for (const n of [0, 1, 42, 43, 125, 126, 127, 128, 129, 16_383, 16_384, 70_000]) {
      const s = 'a'.repeat(n);
      const wide = '€'.repeat(Math.ceil(n / 3));
      const req: ExportTraceServiceRequest = {
        resourceSpans: [{ scopeSpans: [{ spans: [{ name: s, attributes: [{ key: wide, value: { arrayValue: { values: [{ stringValue: s }, { kvlistValue: { values: [{ key: 'k', value: { stringValue: wide } }] } }] } } }] }] }] }],
      };
      assertWritesLikeProtobufjs(req);
    }
  });

  it('writes int64 two\'s complement and fixed64 from bigint, number and decimal text alike', () => {
    const at = (intValue: bigint | number | string, t: bigint | number | string) =>
      writeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: t, attributes: [{ key: 'i', value: { intValue } }] }] }] }] });
    for (const [a, b] of [[-1n, -1], [-1n, '-1'], [2n ** 62n, String(2n ** 62n)], [123n, 123]] as const) {
      assert.deepEqual(at(a, 5n), at(b, 5n));
    }
    assert.deepEqual(at(0n, 1_732_000_000_000_000_000n), at(0n, '1732000000000000000'));
    const span = decodeTraceRequest(at(-(2n ** 63n), 2n ** 64n - 1n)).resourceSpans![0]!.scopeSpans![0]!.spans![0]!;
    assert.equal(span.attributes![0]!.value!.intValue, -(2n ** 63n));
    assert.equal(span.startTimeUnixNano, 2n ** 64n - 1n);
  });

  it('writes a lone surrogate as U+FFFD, so strict UTF-8 decoders downstream accept the batch', () => {
    const bytes = writeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'a\ud800b' }] }] }] });
    validateTraceRequest(bytes);
    assert.equal(decodeTraceRequest(bytes).resourceSpans![0]!.scopeSpans![0]!.spans![0]!.name, 'a\ufffdb');
  });

  it('hands out buffers that later writes do not overwrite', () => {
    const one = writeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'first' }] }] }] });
    const copy = Buffer.from(one);
    writeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'second, longer' }] }] }] });
    assert.deepEqual(one, copy);
  });

  it('TracesData.fromObjects keeps the bytes, not the object tree it was given', async () => {
    let req: ExportTraceServiceRequest | undefined = { resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'kept as bytes', attributes: [{ key: 'k', value: { stringValue: 'v' } }] }] }] }] };
    const ref = new WeakRef(req);
    const data = TracesData.fromObjects(req);
    req = undefined; // eslint-disable-line no-useless-assignment -- drops the last reference
    await collectGarbage();
    assert.equal(ref.deref(), undefined, 'the objects are garbage once encoded');
    assert.equal(data.spanCount, 1);
    assert.equal(data.toObjects().resourceSpans![0]!.scopeSpans![0]!.spans![0]!.name, 'kept as bytes');
  });
});
