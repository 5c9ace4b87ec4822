// Validation to the leaves: hand-framed requests that break exactly one nested message are refused
// with the path of the fault; everything valid (empty IDs, unknown fields of any wire type at any
// level, deep but bounded AnyValue nesting, multi-byte UTF-8) is accepted; and whatever is accepted
// decodes with the decoders the exporters use (fuzzed SDK output).
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { PermanentError } from '../../../sidecar/component/errors.ts';
import { decodeTraceRequest, encodeTraceRequest } from '../../../sidecar/pdata/otlp-schema.ts';
import { traceRequestProtoToJson } from '../../../sidecar/pdata/otlp-json-encode.ts';
import { validateLogsRequest, validateMetricsRequest } from '../../../sidecar/pdata/passthrough.ts';
import { indexTraceRequest, startTimeUnixNano, validateTraceRequest, type TraceView } from '../../../sidecar/pdata/trace-view.ts';
import { WireFormatError } from '../../../sidecar/pdata/wire.ts';
import { collectGarbage } from '../../support/gc.ts';
import { formatSpanLines } from '../../../sidecar/exporters/debug/format.ts';
import { toXRaySegments } from '../../../sidecar/exporters/awsxray/translate.ts';
import {
  anyArray,
  anyKvlist,
  anyString,
  cat,
  eventPayload,
  group,
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
  statusPayload,
  traceRequest,
  TRACE_ID,
  varint,
  vint,
} from './framing.ts';

const SPAN = 'resource_spans[0].scope_spans[0].spans[0]';

function refusal(bytes: Uint8Array, validate: (b: Uint8Array) => unknown = validateTraceRequest): string {
  try {
    validate(bytes);
  } catch (err) {
    assert.ok(err instanceof WireFormatError, `expected a WireFormatError, got ${String(err)}`);
    assert.ok(err instanceof PermanentError, 'a data error is permanent');
    return err.message;
  }
  assert.fail('accepted a malformed request');
}

describe('pdata validation', () => {
  describe('refuses a malformed nested message, naming its path', () => {
    const cases: [string, Buffer, string][] = [
      ['an attribute value that is not protobuf', traceRequest({ spans: [spanPayload(len(9, kv('k', Buffer.from([0x0a, 0x05, 0x61]))))] }), `${SPAN}.attributes[1].value: length 5 runs past the end of the message`],
      ['an attribute value with a truncated varint', traceRequest({ spans: [spanPayload(len(9, kv('k', Buffer.from([0x18, 0x80]))))] }), `${SPAN}.attributes[1].value: truncated varint`],
      ['an attribute whose length runs past its span', traceRequest({ spans: [cat(spanPayload(), Buffer.from([0x4a, 0x7f]))] }), `${SPAN}.attributes[1]: length 127 runs past the end of the message`],
      ['an event that is not protobuf', traceRequest({ spans: [spanPayload(len(11, Buffer.from([0x12, 0x09, 0x61])))] }), `${SPAN}.events[0]: length 9 runs past the end of the message`],
      ['an event attribute that is not protobuf', traceRequest({ spans: [spanPayload(len(11, eventPayload(len(3, Buffer.from([0xff])))))] }), `${SPAN}.events[0].attributes[1]: truncated varint`],
      ['a link with a 15-byte trace ID', traceRequest({ spans: [spanPayload(len(13, cat(len(1, Buffer.alloc(15, 1)))))] }), `${SPAN}.links[0].trace_id: must be 16 bytes, got 15`],
      ['a link with a 7-byte span ID', traceRequest({ spans: [spanPayload(len(13, cat(len(2, Buffer.alloc(7, 1)))))] }), `${SPAN}.links[0].span_id: must be 8 bytes, got 7`],
      ['a link attribute that is not protobuf', traceRequest({ spans: [spanPayload(len(13, linkPayload(len(4, Buffer.from([0x0a, 0x02])))))] }), `${SPAN}.links[0].attributes[1]: length 2 runs past the end of the message`],
      ['a status that is not protobuf', traceRequest({ spans: [spanPayload(len(15, Buffer.from([0x18])))] }), `${SPAN}.status: truncated varint`],
      ['a status message of the wrong wire type', traceRequest({ spans: [spanPayload(len(15, vint(2, 1)))] }), `${SPAN}.status.message: wire type 0, expected 2`],
      ['a resource that is not protobuf', traceRequest({ resource: len(1, Buffer.from([0x12, 0x03, 0x0a])) }), 'resource_spans[0].resource.attributes[0].value: length 3 runs past the end of the message'],
      ['a resource dropped count of the wrong wire type', traceRequest({ resource: resourcePayload(len(2, 'x')) }), 'resource_spans[0].resource.dropped_attributes_count: wire type 2, expected 0'],
      ['a scope that is not protobuf', traceRequest({ scope: Buffer.from([0x0a, 0x03, 0x61, 0x62]) }), 'resource_spans[0].scope_spans[0].scope: length 3 runs past the end of the message'],
      ['a scope attribute that is not protobuf', traceRequest({ scope: scopePayload(len(3, Buffer.from([0x12, 0x01]))) }), 'resource_spans[0].scope_spans[0].scope.attributes[0].value: length 1 runs past the end of the message'],
      ['a 15-byte span trace ID', traceRequest({ spans: [spanPayload(len(1, Buffer.alloc(15, 1)))] }), `${SPAN}.trace_id: must be 16 bytes, got 15`],
      ['a 9-byte parent span ID', traceRequest({ spans: [spanPayload(len(4, Buffer.alloc(9, 1)))] }), `${SPAN}.parent_span_id: must be 8 bytes, got 9`],
      ['a span kind of the wrong wire type', traceRequest({ spans: [spanPayload(len(6, 'x'))] }), `${SPAN}.kind: wire type 2, expected 0`],
      ['a truncated start time', traceRequest({ spans: [cat(spanPayload(), Buffer.from([0x39, 1, 2, 3]))] }), `${SPAN}: truncated fixed64`],
      ['a dropped count in a 7-byte varint (protobufjs misreads it)', traceRequest({ spans: [spanPayload(cat(varint(10 << 3), Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00])))] }), `${SPAN}: 7-byte varint in a 32-bit field`],
      ['an entity ref that is not protobuf', traceRequest({ resource: resourcePayload(len(3, Buffer.from([0x0a, 0x09]))) }), 'resource_spans[0].resource.entity_refs[0]: length 9 runs past the end of the message'],
      ['a kvlist entry that is not protobuf', traceRequest({ spans: [spanPayload(len(9, kv('m', anyKvlist(Buffer.from([0x12, 0x04, 0x0a]))))) ] }), `${SPAN}.attributes[1].value.kvlist_value.values[0].value: length 4 runs past the end of the message`],
      ['an unknown field with an invalid wire type', traceRequest({ spans: [spanPayload(varint((99 << 3) | 7))] }), `${SPAN}: invalid wire type 7`],
      ['a group closed by another field number', traceRequest({ spans: [spanPayload(cat(varint((50 << 3) | 3), varint((51 << 3) | 4)))] }), `${SPAN}: group 50 closed by the end tag of 51`],
      ['field number 0', traceRequest({ requestExtra: [Buffer.from([0x00, 0x00])] }), 'field number 0'],
    ];
    for (const [what, bytes, message] of cases) {
      it(what, () => assert.equal(refusal(bytes), message));
    }

    it('AnyValue nesting beyond 100 messages (as protobuf C++/Java/upb count them), and accepts it up to there', () => {
      // A span attribute's AnyValue sits 5 messages deep; each array_value adds 2 (ArrayValue, AnyValue).
      const ok = traceRequest({ spans: [spanPayload(len(9, kv('deep', nestedArrays(47))))] });
      assert.equal(validateTraceRequest(ok).spanCount, 1);
      assert.doesNotThrow(() => decodeTraceRequest(ok));
      // Exactly at the limit: an (empty) ArrayValue 100 messages deep; protobufjs (limit 100, as
      // protoc's) decodes it, and refuses one level more, as validation does.
      const at100 = traceRequest({ spans: [spanPayload(len(9, kv('deep', nestedArrays(47, anyArray()))))] });
      validateTraceRequest(at100);
      assert.doesNotThrow(() => decodeTraceRequest(at100));
      const at101 = traceRequest({ spans: [spanPayload(len(9, kv('deep', nestedArrays(47, anyKvlist(kv('k', anyString('v')))))))] });
      assert.match(refusal(at101), /\.kvlist_value: nested deeper than 100 messages$/);
      assert.throws(() => decodeTraceRequest(at101), /max depth exceeded/);
      const deep = traceRequest({ spans: [spanPayload(len(9, kv('deep', nestedArrays(48))))] });
      assert.match(
        refusal(deep),
        /^resource_spans\[0\]\.scope_spans\[0\]\.spans\[0\]\.attributes\[1\]\.value\.array_value\.values\[0\]\.array_value\.values\[0\]\.array_value\.\(86 more\)\.values\[0\]\.array_value\.values\[0\]\.array_value: nested deeper than 100 messages$/,
      );
      // Thousands of levels cost no stack: refused at level 100.
      let bomb: Buffer = Buffer.from([]);
      for (let i = 0; i < 2000; i++) bomb = len(5, len(1, bomb));
      assert.match(refusal(traceRequest({ spans: [spanPayload(len(9, kv('bomb', bomb)))] })), /nested deeper than 100 messages$/);
    });

    it('strings that are not UTF-8 in every string field', () => {
      const bad = Buffer.from([0x61, 0xc3, 0x28]);
      const where: [Buffer, string][] = [
        [traceRequest({ spans: [spanPayload(len(5, bad))] }), `${SPAN}.name`],
        [traceRequest({ spans: [spanPayload(len(3, bad))] }), `${SPAN}.trace_state`],
        [traceRequest({ spans: [spanPayload(len(9, kv(bad, anyString('v'))))] }), `${SPAN}.attributes[1].key`],
        [traceRequest({ spans: [spanPayload(len(9, kv('k', anyString(bad))))] }), `${SPAN}.attributes[1].value.string_value`],
        [traceRequest({ spans: [spanPayload(len(9, kv('k', anyArray(anyString('ok'), anyString(bad)))))] }), `${SPAN}.attributes[1].value.array_value.values[1].string_value`],
        [traceRequest({ spans: [spanPayload(len(11, eventPayload(len(2, bad))))] }), `${SPAN}.events[0].name`],
        [traceRequest({ spans: [spanPayload(len(13, linkPayload(len(3, bad))))] }), `${SPAN}.links[0].trace_state`],
        [traceRequest({ spans: [spanPayload(len(15, statusPayload(len(2, bad))))] }), `${SPAN}.status.message`],
        [traceRequest({ scope: scopePayload(len(2, bad)) }), 'resource_spans[0].scope_spans[0].scope.version'],
        [traceRequest({ scopeSpansExtra: [len(3, bad)] }), 'resource_spans[0].scope_spans[0].schema_url'],
        [traceRequest({ resourceSpansExtra: [len(3, bad)] }), 'resource_spans[0].schema_url'],
        [traceRequest({ resource: resourcePayload(len(3, len(3, bad))) }), 'resource_spans[0].resource.entity_refs[0].id_keys'],
      ];
      for (const [bytes, path] of where) assert.equal(refusal(bytes), `${path}: invalid UTF-8`);
    });
  });

  describe('accepts', () => {
    it('empty IDs (proto3 "absent"), and records no trace ID for them', () => {
      const view = validateTraceRequest(traceRequest({ spans: [spanPayload(len(1), len(2), len(4)), spanPayload(len(13, cat(len(1), len(2))))] }));
      assert.equal(view.spanCount, 2);
      assert.equal(view.traceIdOffset(0), -1, 'the last trace_id field wins, as in decoders');
      assert.ok(view.traceIdOffset(1) > 0);
      assert.equal(view.linkCount(1), 0);
    });

    it('unknown fields of every wire type at every level', () => {
      const bytes = requestWithUnknownFieldsEverywhere();
      const view = validateTraceRequest(bytes);
      assert.equal(view.spanCount, 1);
      assert.deepEqual(Buffer.from(bytes.subarray(view.traceIdOffset(0), view.traceIdOffset(0) + 16)), TRACE_ID);
      assert.equal(view.linkCount(0), 1);
      assert.doesNotThrow(() => decodeTraceRequest(bytes));
    });

    it('strings with multi-byte UTF-8 at any alignment (the word-at-a-time ASCII scan agrees with isUtf8)', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(7), fc.nat(7), (s, pad, lead) => {
          // Place the string at every offset modulo 4 inside a larger allocation.
          const req = traceRequest({ spans: [spanPayload(len(9, kv('x'.repeat(lead), anyString(s))))] });
          const host = new Uint8Array(req.length + pad + 8);
          host.set(req, pad);
          const view = host.subarray(pad, pad + req.length);
          let accepted = true;
          try {
            validateTraceRequest(view);
          } catch (err) {
            assert.ok(err instanceof WireFormatError);
            assert.match(err.message, /string_value: invalid UTF-8$/);
            accepted = false;
          }
          assert.equal(accepted, isUtf8(s));
        }),
        { numRuns: 2000 },
      );
    });

    it('what this process encodes from objects: a lone surrogate (Zipkin, X-Ray JSON) becomes U+FFFD, not bytes that are not UTF-8', () => {
      const bytes = encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'a\ud800b', attributes: [{ key: '\udfff', value: { stringValue: 'ok' } }] }] }] }] });
      validateTraceRequest(bytes);
      const span = decodeTraceRequest(bytes).resourceSpans![0]!.scopeSpans![0]!.spans![0]!;
      assert.equal(span.name, 'a\ufffdb');
      assert.equal(span.attributes![0]!.key, '\ufffd');
    });

    it('a negative enum in 10 bytes, as encoders write it', () => {
      const bytes = traceRequest({ spans: [spanPayload(vint(6, -1n))] });
      validateTraceRequest(bytes);
      assert.equal(decodeTraceRequest(bytes).resourceSpans![0]!.scopeSpans![0]!.spans![0]!.kind, -1);
    });
  });

  describe('the view', () => {
    it('finds every span, trace ID, start time and link of the SDK encoder output, with counts and ranges', () => {
      const bytes = sdkRequest(4);
      const view = validateTraceRequest(bytes);
      const decoded = decodeTraceRequest(bytes);
      const spans = decoded.resourceSpans!.flatMap((rs) => rs.scopeSpans!.flatMap((ss) => ss.spans!));
      assert.equal(view.spanCount, 4);
      assert.equal(view.resourceSpansCount, decoded.resourceSpans!.length);
      spans.forEach((s, k) => {
        assert.deepEqual(Buffer.from(bytes.subarray(view.traceIdOffset(k), view.traceIdOffset(k) + 16)), Buffer.from(s.traceId!));
        assert.ok(Math.abs(startTimeUnixNano(view, bytes, k) - Number(s.startTimeUnixNano)) < 1000);
        assert.equal(view.linkCount(k), 1);
        const l = view.linkTraceIdOffset(k, 0);
        assert.deepEqual(Buffer.from(bytes.subarray(l, l + 16)), Buffer.from(s.links![0]!.traceId!));
        // The span's range, framed alone, decodes as the same span; its field starts with the spans tag.
        const alone = decodeTraceRequest(len(1, len(2, len(2, bytes.subarray(view.spanStart(k), view.spanEnd(k))))));
        assert.equal(alone.resourceSpans![0]!.scopeSpans![0]!.spans![0]!.name, s.name);
        assert.equal(bytes[view.spanField(k)], 0x12);
      });
      const rs0 = decoded.resourceSpans![0]!;
      const res = bytes.subarray(view.resourceStart(0), view.resourceEnd(0));
      assert.equal(res.length > 0, rs0.resource !== undefined);
      assert.equal(view.scopeSpansIn(0), rs0.scopeSpans!.length);
      assert.equal(view.spansIn(view.firstScopeSpans(0)), rs0.scopeSpans![0]!.spans!.length);
      assert.equal(view.resourceSpansOf(view.scopeSpansOf(3)), 0);
    });

    it('is the same whether built by validation or by indexing (random requests, property)', () => {
      const same = (a: TraceView, b: TraceView) => {
        assert.equal(a.spanCount, b.spanCount);
        assert.equal(a.resourceSpansCount, b.resourceSpansCount);
        assert.equal(a.scopeSpansCount, b.scopeSpansCount);
        for (let k = 0; k < a.spanCount; k++) {
          assert.deepEqual(
            [a.spanField(k), a.spanStart(k), a.spanEnd(k), a.traceIdOffset(k), a.startTimeOffset(k), a.scopeSpansOf(k), a.linkCount(k)],
            [b.spanField(k), b.spanStart(k), b.spanEnd(k), b.traceIdOffset(k), b.startTimeOffset(k), b.scopeSpansOf(k), b.linkCount(k)],
          );
        }
        for (let i = 0; i < a.resourceSpansCount; i++) {
          assert.deepEqual([a.resourceField(i), a.resourceStart(i), a.resourceEnd(i)], [b.resourceField(i), b.resourceStart(i), b.resourceEnd(i)]);
        }
      };
      fc.assert(
        fc.property(
          fc.array(
            fc.record({
              resource: fc.option(fc.record({ attributes: fc.array(fc.record({ key: fc.string(), value: fc.record({ stringValue: fc.string() }) }), { maxLength: 2 }) }), { nil: undefined }),
              scopeSpans: fc.array(
                fc.record({
                  scope: fc.option(fc.record({ name: fc.string() }), { nil: undefined }),
                  spans: fc.array(
                    fc.record({ name: fc.string(), traceId: fc.uint8Array({ minLength: 16, maxLength: 16 }), startTimeUnixNano: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), links: fc.array(fc.record({ traceId: fc.uint8Array({ minLength: 16, maxLength: 16 }) }), { maxLength: 2 }) }),
                    { maxLength: 4 },
                  ),
                }),
                { maxLength: 3 },
              ),
            }),
            { maxLength: 3 },
          ),
          (resourceSpans) => {
            const bytes = encodeTraceRequest({ resourceSpans });
            same(validateTraceRequest(bytes), indexTraceRequest(bytes));
            assert.equal(indexTraceRequest(bytes).spanCount, resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)).length);
          },
        ),
      );
    });
  });

  describe('metrics and logs (pass-through) framing', () => {
    const resourceLevel = (child: Buffer) => len(1, cat(len(1, resourcePayload()), len(2, cat(len(1, scopePayload()), child)), len(3, 'https://opentelemetry.io/schemas/1.26.0')));
    it('accepts well-framed requests with unknown fields, whatever the resource, scope and records hold', () => {
      validateMetricsRequest(cat(resourceLevel(len(2, 'any bytes: metrics are not decoded')), vint(99, 1)));
      validateLogsRequest(cat(resourceLevel(len(2, Buffer.from([0xff, 0xff]))), group(77, vint(1, 1))));
      validateLogsRequest(len(1, cat(len(1, Buffer.from([0x0a, 0x09])), len(2, len(1, Buffer.from([0x78]))))));
      validateMetricsRequest(Buffer.alloc(0));
    });
    it('refuses broken framing of the outer levels, naming the path', () => {
      assert.equal(refusal(Buffer.from([0x0a, 0x05, 0x0a]), validateMetricsRequest), 'resource_metrics[0]: length 5 runs past the end of the message');
      assert.equal(refusal(Buffer.from([0x08, 0x01]), validateLogsRequest), 'resource_logs: wire type 0, expected 2');
      assert.equal(refusal(len(1, Buffer.from([0x0a, 0x09])), validateLogsRequest), 'resource_logs[0].resource: length 9 runs past the end of the message');
      assert.equal(refusal(len(1, len(2, Buffer.from([0x12, 0x05, 0x00]))), validateMetricsRequest), 'resource_metrics[0].scope_metrics[0].metrics[0]: length 5 runs past the end of the message');
      assert.equal(refusal(len(1, len(2, vint(1, 1))), validateLogsRequest), 'resource_logs[0].scope_logs[0].scope: wire type 0, expected 2');
      assert.equal(refusal(len(1, len(2, len(3, Buffer.from([0xc3, 0x28])))), validateLogsRequest), 'resource_logs[0].scope_logs[0].schema_url: invalid UTF-8');
    });
  });

  it('what it accepts decodes in every decoder the exporters use (fuzzed SDK output: flip, insert, delete, truncate; property)', () => {
    // The independent decoder is protobufjs with this repository's schema (otlp-schema.ts): the
    // otlp-transformer package ships encoders only. It is what the debug, awsxray and otlphttp
    // (json) exporters decode with, so "accepted" must imply "decodes" for it.
    const base = Buffer.from(sdkRequest(2));
    const options = { indexing: { indexed: new Set<string>(), indexAll: true, alwaysIndexed: '' }, logGroups: [] };
    let accepted = 0;
    const deadline = Date.now() + 1500;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (muts) => {
        let b: Buffer = base;
        for (const m of muts) b = mutate(b, m);
        try {
          validateTraceRequest(b);
        } catch (err) {
          assert.ok(err instanceof WireFormatError, String(err));
          return;
        }
        accepted++;
        const req = decodeTraceRequest(b);
        formatSpanLines(req, true);
        traceRequestProtoToJson(b);
        toXRaySegments(req, options, () => undefined);
      }),
      { numRuns: 20_000, interruptAfterTimeLimit: Math.max(100, deadline - Date.now()) },
    );
    assert.ok(accepted > 0, 'some mutants are valid requests');
  });

  // The validator's cursor and word view pointed at the last request checked: after a burst of
  // 16 MiB requests, one stayed alive until the next request came (2 MiB in a heap snapshot at 10k
  // Zipkin spans/s).
  it('keeps no reference to a request once it is validated, valid or not', async () => {
    const refs: WeakRef<ArrayBuffer>[] = [];
    const check = (kind: 'traces' | 'metrics' | 'logs', bytes: Uint8Array) => {
      const own = new Uint8Array(bytes.length);
      own.set(bytes);
      refs.push(new WeakRef(own.buffer));
      try {
        if (kind === 'traces') validateTraceRequest(own);
        else if (kind === 'metrics') validateMetricsRequest(own);
        else validateLogsRequest(own);
      } catch {
        // invalid input: refused, and still not kept
      }
    };
    const valid = encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'kept?', traceId: new Uint8Array(16).fill(1), spanId: new Uint8Array(8).fill(2) }] }] }] });
    check('traces', valid);
    check('traces', Uint8Array.from([0x0a, 0x05, 0xff]));
    check('metrics', new Uint8Array(0));
    check('logs', Uint8Array.from([0x0a, 0x02, 0x08]));
    await collectGarbage();
    assert.deepEqual(refs.map((r) => r.deref() === undefined), [true, true, true, true]);
  });
});
