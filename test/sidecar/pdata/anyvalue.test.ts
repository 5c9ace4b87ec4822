import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ANY_ARRAY,
  ANY_BOOL,
  ANY_BYTES,
  ANY_DOUBLE,
  ANY_EMPTY,
  ANY_INT,
  ANY_KVLIST,
  ANY_STRING,
  anyBool,
  anyBytes,
  anyDouble,
  anyInt,
  anyIntBig,
  anyString,
  anyStringEquals,
  AnyValueSlot,
  anyValueToObject,
  AttributeSlot,
  decodeAnyValue,
  findAttribute,
  forEachArrayValue,
  forEachAttribute,
  readAnyValue,
} from '../../../sidecar/pdata/anyvalue.ts';
import { TAG_EVENT_ATTRIBUTES, TAG_RESOURCE_ATTRIBUTES, TAG_SCOPE_ATTRIBUTES, TAG_SPAN_ATTRIBUTES, TAG_SPAN_EVENTS } from '../../../sidecar/pdata/fields.ts';
import { encodeTraceRequest, type AnyValue } from '../../../sidecar/pdata/otlp-schema.ts';
import { TracesData } from '../../../sidecar/pdata/traces.ts';
import { WireReader } from '../../../sidecar/pdata/wire.ts';
import { anyString as anyStringField, cat, kv, len, sdkRequest, spanPayload, traceRequest, unknownFields, vint } from './framing.ts';

const key = (k: string): Buffer => Buffer.from(k, 'utf8');

/** One span holding `attributes`, encoded by protobufjs (the schema's encoder). */
function oneSpan(attributes: { key: string; value?: AnyValue }[]): TracesData {
  const bytes = encodeTraceRequest({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
        scopeSpans: [{ scope: { name: 'lib', attributes: [{ key: 'scope.k', value: { intValue: 7 } }] }, spans: [{ name: 's', traceId: new Uint8Array(16).fill(1), spanId: new Uint8Array(8).fill(2), attributes }] }],
      },
    ],
  });
  return TracesData.fromProto(bytes);
}

describe('pdata anyvalue', () => {
  it('finds span, resource and scope attributes by key and reads each kind in place', () => {
    const data = oneSpan([
      { key: 's', value: { stringValue: 'héllo' } },
      { key: 'b', value: { boolValue: true } },
      { key: 'i', value: { intValue: -42n } },
      { key: 'big', value: { intValue: 9007199254740993n } },
      { key: 'd', value: { doubleValue: 0.25 } },
      { key: 'bytes', value: { bytesValue: new Uint8Array([1, 2, 3]) } },
      { key: 'arr', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 2 }] } } },
      { key: 'map', value: { kvlistValue: { values: [{ key: 'x', value: { boolValue: false } }] } } },
      { key: 'empty', value: {} },
    ]);
    const buf = data.bytes;
    const v = data.view;
    const s = new AnyValueSlot();
    const span = (k: string) => findAttribute(buf, v.spanStart(0), v.spanEnd(0), TAG_SPAN_ATTRIBUTES, key(k), s);

    assert.ok(span('s'));
    assert.equal(s.kind, ANY_STRING);
    assert.equal(anyString(buf, s), 'héllo');
    assert.ok(anyStringEquals(buf, s, key('héllo')));
    assert.ok(!anyStringEquals(buf, s, key('hello')));
    assert.ok(span('b'));
    assert.equal(s.kind, ANY_BOOL);
    assert.equal(anyBool(buf, s), true);
    assert.ok(span('i'));
    assert.equal(s.kind, ANY_INT);
    assert.equal(anyInt(buf, s), -42);
    assert.equal(anyIntBig(buf, s), -42n);
    assert.ok(span('big'));
    assert.equal(anyIntBig(buf, s), 9007199254740993n);
    assert.ok(span('d'));
    assert.equal(s.kind, ANY_DOUBLE);
    assert.equal(anyDouble(buf, s), 0.25);
    assert.ok(span('bytes'));
    assert.equal(s.kind, ANY_BYTES);
    assert.deepEqual([...anyBytes(buf, s)], [1, 2, 3]);
    assert.ok(span('arr'));
    assert.equal(s.kind, ANY_ARRAY);
    const elems: unknown[] = [];
    forEachArrayValue(buf, s, (a, b) => {
      elems.push(decodeAnyValue(buf, a, b));
    });
    assert.deepEqual(elems, ['a', 2n]);
    assert.ok(span('map'));
    assert.equal(s.kind, ANY_KVLIST);
    assert.deepEqual(anyValueToObject(buf, s), new Map([['x', false]]));
    assert.ok(span('empty'));
    assert.equal(s.kind, ANY_EMPTY);
    assert.ok(!span('missing'));
    assert.equal(s.kind, ANY_EMPTY);

    assert.ok(findAttribute(buf, v.resourceStart(0), v.resourceEnd(0), TAG_RESOURCE_ATTRIBUTES, key('service.name'), s));
    assert.equal(anyString(buf, s), 'checkout');
    assert.ok(findAttribute(buf, v.scopeStart(0), v.scopeEnd(0), TAG_SCOPE_ATTRIBUTES, key('scope.k'), s));
    assert.equal(anyInt(buf, s), 7);
  });

  it('reads what the OpenTelemetry JS SDK encoded, event attributes included', () => {
    const data = TracesData.fromProto(sdkRequest(2));
    const buf = data.bytes;
    const v = data.view;
    const s = new AnyValueSlot();
    assert.ok(findAttribute(buf, v.spanStart(1), v.spanEnd(1), TAG_SPAN_ATTRIBUTES, key('names'), s));
    assert.deepEqual(anyValueToObject(buf, s), ['a', 'ß']);
    assert.ok(findAttribute(buf, v.spanStart(1), v.spanEnd(1), TAG_SPAN_ATTRIBUTES, key('ratio'), s));
    assert.equal(anyDouble(buf, s), 0.5);
    assert.ok(findAttribute(buf, v.resourceStart(0), v.resourceEnd(0), TAG_RESOURCE_ATTRIBUTES, key('k8s.pod.uid'), s));
    assert.equal(anyString(buf, s), 'é-ü-漢');
    // The event's payload, then its attribute.
    const r = new WireReader(buf, v.spanStart(1), v.spanEnd(1));
    let found = false;
    while (r.pos < v.spanEnd(1)) {
      const t = r.tag();
      if (t !== TAG_SPAN_EVENTS) {
        r.skip(t & 7);
        continue;
      }
      const e = r.lenEnd();
      found = findAttribute(buf, r.pos, e, TAG_EVENT_ATTRIBUTES, key('attempt'), s);
      r.pos = e;
    }
    assert.ok(found);
    assert.equal(anyInt(buf, s), 1);
  });

  it('first key wins, the last oneof member wins, unknown fields are skipped, and AttributeSlot gives the field ranges', () => {
    const u = unknownFields();
    const span = spanPayload(
      len(9, cat(u, kv('dup', cat(anyStringField('first'), u)))),
      len(9, kv('dup', anyStringField('second'))),
      // string then int: the int wins
      len(9, kv('one', cat(anyStringField('s'), vint(3, 5)))),
      // a KeyValue without a value
      len(9, len(1, 'novalue')),
    );
    const data = TracesData.fromProto(traceRequest({ spans: [span] }));
    const buf = data.bytes;
    const v = data.view;
    const s = new AttributeSlot();
    assert.ok(findAttribute(buf, v.spanStart(0), v.spanEnd(0), TAG_SPAN_ATTRIBUTES, key('dup'), s));
    assert.equal(anyString(buf, s), 'first');
    // The whole field is the first `dup` KeyValue, tag included.
    const field = Buffer.from(buf.subarray(s.fieldStart, s.fieldEnd));
    assert.deepEqual(field, len(9, cat(u, kv('dup', cat(anyStringField('first'), u)))));
    assert.deepEqual(Buffer.from(buf.subarray(s.valueFieldStart, s.valueFieldEnd)), len(2, cat(anyStringField('first'), u)));
    assert.ok(findAttribute(buf, v.spanStart(0), v.spanEnd(0), TAG_SPAN_ATTRIBUTES, key('one'), s));
    assert.equal(s.kind, ANY_INT);
    assert.equal(anyInt(buf, s), 5);
    assert.ok(findAttribute(buf, v.spanStart(0), v.spanEnd(0), TAG_SPAN_ATTRIBUTES, key('novalue'), s));
    assert.equal(s.kind, ANY_EMPTY);
    assert.equal(s.valueFieldStart, -1);

    const keys: string[] = [];
    forEachAttribute(buf, v.spanStart(0), v.spanEnd(0), TAG_SPAN_ATTRIBUTES, (ks, ke) => {
      keys.push(Buffer.from(buf.subarray(ks, ke)).toString());
    });
    assert.deepEqual(keys, ['http.method', 'dup', 'dup', 'one', 'novalue']);
  });

  it('ints read back exactly, negative and beyond 2^53 included (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
        const payload = vint(3, n);
        const s = new AnyValueSlot();
        assert.equal(readAnyValue(payload, 0, payload.length, s), ANY_INT);
        assert.equal(anyIntBig(payload, s), n);
        assert.equal(anyInt(payload, s), Number(n));
      }),
    );
  });
});
