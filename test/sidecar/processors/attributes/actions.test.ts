// The attributes processor's actions, on the wire form: each action on present and absent keys and
// on every value type, read back field by field with protobufjs; untouched attributes, the span's
// other fields and fields unknown to the schema stay byte for byte.
import assert from 'node:assert/strict';
import { AttributesProcessor } from '../../../../sidecar/processors/attributes/processor.ts';
import { attributesConfig } from '../../../../sidecar/processors/attributes/config.ts';
import { decodeTraceRequest, encodeTraceRequest, type AnyValue, type KeyValue, type Span } from '../../../../sidecar/pdata/otlp-schema.ts';
import { appendToSpans, encodeStringKeyValue, lenField } from '../../../../sidecar/pdata/splice.ts';
import { TAG_SPAN_ATTRIBUTES } from '../../../../sidecar/pdata/fields.ts';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';
import { validateTraceRequest } from '../../../../sidecar/pdata/trace-view.ts';
import { b, Capture, d, decodeConfig, float64le, i, int64le, kv, pairs, s, settings, sha256, UNKNOWN } from './support.ts';

const T0 = 1_700_000_000_000_000_000n;

function fullSpan(attributes: KeyValue[]): Span {
  return {
    traceId: Buffer.alloc(16, 7),
    spanId: Buffer.alloc(8, 3),
    parentSpanId: Buffer.alloc(8, 2),
    traceState: 'ot=th:8',
    name: 'GET /orders',
    kind: 2,
    startTimeUnixNano: T0,
    endTimeUnixNano: T0 + 5_000_000n,
    attributes,
    droppedAttributesCount: 3,
    events: [{ timeUnixNano: T0 + 1n, name: 'retry', attributes: [kv('attempt', i(2))] }],
    links: [{ traceId: Buffer.alloc(16, 9), spanId: Buffer.alloc(8, 9) }],
    status: { code: 2, message: 'boom' },
  };
}

/** A one-span request whose span also carries fields unknown to the schema. */
function request(attributes: KeyValue[]): Uint8Array {
  const plain = encodeTraceRequest({ resourceSpans: [{ resource: { attributes: [kv('service.name', s('checkout'))] }, scopeSpans: [{ scope: { name: 'lib' }, spans: [fullSpan(attributes)] }] }] });
  const view = TracesData.fromProto(plain).view;
  return appendToSpans(plain, new Map([[view.spanStart(0), UNKNOWN]]));
}

async function run(actions: unknown[], attributes: KeyValue[]) {
  const next = new Capture();
  const p = new AttributesProcessor(settings, decodeConfig(attributesConfig, { actions }), next);
  const input = TracesData.fromProto(request(attributes));
  await p.consumeTraces(input);
  const out = next.got[0]!;
  validateTraceRequest(out.bytes);
  const span = decodeTraceRequest(out.bytes).resourceSpans![0]!.scopeSpans![0]!.spans![0]!;
  return { input, out, span, attrs: pairs(span.attributes) };
}

/** Every field but the attributes is as it was, and the unknown fields are still there. */
function assertRestIntact(span: Span, out: TracesData): void {
  const want = decodeTraceRequest(request([])).resourceSpans![0]!.scopeSpans![0]!.spans![0]!;
  const { attributes: _a, ...rest } = span;
  const { attributes: _b, ...wantRest } = want;
  assert.deepEqual(rest, wantRest);
  assert.ok(Buffer.from(out.bytes).includes(UNKNOWN), 'unknown span fields kept byte for byte');
}

const VALUES: [string, AnyValue][] = [
  ['string', s('v')],
  ['int', i(-7)],
  ['double', d(2.5)],
  ['bool', b(true)],
];

describe('attributes processor: actions', () => {
  for (const [type, value] of VALUES) {
    const raw = value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.doubleValue ?? value.boolValue));

    it(`insert (${type}): adds an absent key, leaves a present one`, async () => {
      const absent = await run([{ key: 'new', action: 'insert', value: raw }], [kv('a', s('1'))]);
      assert.deepEqual(absent.attrs, [['a', s('1')], ['new', value]]);
      assertRestIntact(absent.span, absent.out);
      const present = await run([{ key: 'a', action: 'insert', value: raw }], [kv('a', s('1'))]);
      assert.deepEqual(present.attrs, [['a', s('1')]]);
      assert.equal(present.out, present.input, 'nothing changed: the same data goes on');
    });

    it(`update (${type}): replaces a present key in place, ignores an absent one`, async () => {
      const present = await run([{ key: 'a', action: 'update', value: raw }], [kv('z', s('0')), kv('a', s('1')), kv('c', i(3))]);
      assert.deepEqual(present.attrs, [['z', s('0')], ['a', value], ['c', i(3)]]);
      assertRestIntact(present.span, present.out);
      const absent = await run([{ key: 'missing', action: 'update', value: raw }], [kv('a', s('1'))]);
      assert.equal(absent.out, absent.input);
    });

    it(`upsert (${type}): inserts or updates`, async () => {
      const present = await run([{ key: 'a', action: 'upsert', value: raw }], [kv('a', d(1.5))]);
      assert.deepEqual(present.attrs, [['a', value]]);
      const absent = await run([{ key: 'b', action: 'upsert', value: raw }], [kv('a', d(1.5))]);
      assert.deepEqual(absent.attrs, [['a', d(1.5)], ['b', value]]);
      assertRestIntact(absent.span, absent.out);
    });

    it(`from_attribute copies a ${type} value; nothing happens when the source is absent`, async () => {
      const copied = await run([{ key: 'copy', action: 'upsert', from_attribute: 'src' }], [kv('src', value)]);
      assert.deepEqual(copied.attrs, [['src', value], ['copy', value]]);
      const none = await run([{ key: 'copy', action: 'upsert', from_attribute: 'nope' }], [kv('src', value)]);
      assert.equal(none.out, none.input);
    });
  }

  it('default_value is used when from_attribute finds nothing', async () => {
    const r = await run([{ key: 'region', action: 'insert', from_attribute: 'cloud.region', default_value: 'us-east-1' }], [kv('a', s('1'))]);
    assert.deepEqual(r.attrs, [['a', s('1')], ['region', s('us-east-1')]]);
    const r2 = await run([{ key: 'region', action: 'insert', from_attribute: 'cloud.region', default_value: 'us-east-1' }], [kv('cloud.region', s('eu-west-1'))]);
    assert.deepEqual(r2.attrs, [['cloud.region', s('eu-west-1')], ['region', s('eu-west-1')]]);
  });

  it('lists and maps in value become array and kvlist values', async () => {
    const r = await run([{ key: 'tags', action: 'insert', value: ['a', 1, true] }, { key: 'm', action: 'insert', value: { x: 1.5 } }], []);
    assert.deepEqual(r.attrs, [
      ['tags', { arrayValue: { values: [s('a'), i(1), b(true)] } }],
      ['m', { kvlistValue: { values: [kv('x', d(1.5))] } }],
    ]);
  });

  it('delete removes the key (every occurrence) and keys matching pattern; the rest stays byte for byte', async () => {
    const attrs = [kv('keep', s('1')), kv('password', s('hunter2')), kv('db.statement', s('select')), kv('db.name', s('shop')), kv('password', s('dup'))];
    const r = await run([{ key: 'password', action: 'delete' }, { action: 'delete', pattern: '^db\\.' }], attrs);
    assert.deepEqual(r.attrs, [['keep', s('1')]]);
    assertRestIntact(r.span, r.out);
    // Byte level: the request is the original with the three KeyValue fields cut out.
    const field = (k: string, v: string) => lenField(TAG_SPAN_ATTRIBUTES, encodeStringKeyValue(k, v));
    let want = Buffer.from(request(attrs));
    for (const [k, v] of [['password', 'hunter2'], ['db.statement', 'select'], ['db.name', 'shop'], ['password', 'dup']] as const) {
      const f = field(k, v);
      const at = want.indexOf(f);
      want = Buffer.concat([want.subarray(0, at), want.subarray(at + f.length)]);
    }
    // Only the length prefixes differ: compare everything after them (span payload onwards).
    const got = Buffer.from(r.out.bytes);
    const spanAt = (buf: Buffer) => buf.indexOf(Buffer.alloc(16, 7)) - 2;
    assert.deepEqual(got.subarray(spanAt(got)), want.subarray(spanAt(want)));
  });

  it('delete of an absent key changes nothing', async () => {
    const r = await run([{ key: 'nope', action: 'delete' }, { action: 'delete', pattern: '^zz' }], [kv('a', s('1'))]);
    assert.equal(r.out, r.input);
  });

  it('hash: SHA-256 hex of a string, bool byte, int64 / float64 little-endian; "" for an empty string; absent keys untouched', async () => {
    const r = await run(
      [
        { key: 'email', action: 'hash' },
        { key: 'n', action: 'hash' },
        { key: 'f', action: 'hash' },
        { key: 'ok', action: 'hash' },
        { key: 'no', action: 'hash' },
        { key: 'empty', action: 'hash' },
        { key: 'absent', action: 'hash' },
        { action: 'hash', pattern: '^user\\.' },
      ],
      [kv('email', s('a@b.c')), kv('n', i(-1)), kv('f', d(0.1)), kv('ok', b(true)), kv('no', b(false)), kv('empty', s('')), kv('user.id', i(42))],
    );
    assert.deepEqual(r.attrs, [
      ['email', s(sha256(Buffer.from('a@b.c')))],
      ['n', s(sha256(int64le(-1n)))],
      ['f', s(sha256(float64le(0.1)))],
      ['ok', s(sha256(Buffer.from([1])))],
      ['no', s(sha256(Buffer.from([0])))],
      ['empty', s('')],
      ['user.id', s(sha256(int64le(42n)))],
    ]);
    // A known vector, independent of this code: SHA-256("hello").
    const hello = await run([{ key: 'h', action: 'hash' }], [kv('h', s('hello'))]);
    assert.deepEqual(hello.attrs, [['h', s('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824')]]);
  });

  it('extract: named groups of a string value become string attributes (overwriting); no match, non-strings and absent keys change nothing', async () => {
    const actions = [{ key: 'http.url', action: 'extract', pattern: '^https?://(?P<host>[^/:]+)(?::(?P<port>\\d+))?(?P<path>/[^?]*)' }];
    const r = await run(actions, [kv('host', s('old')), kv('http.url', s('http://shop.local/api/v1?x=1'))]);
    assert.deepEqual(r.attrs, [
      ['host', s('shop.local')],
      ['http.url', s('http://shop.local/api/v1?x=1')],
      ['port', s('')],
      ['path', s('/api/v1')],
    ]);
    for (const attrs of [[kv('http.url', s('ftp://x'))], [kv('http.url', i(5))], [kv('other', s('http://a/b'))]]) {
      const none = await run(actions, attrs);
      assert.equal(none.out, none.input);
    }
  });

  it('convert: to int, double and string by the collector rules; unconvertible values stay', async () => {
    const cases: [AnyValue, 'int' | 'double' | 'string', AnyValue][] = [
      [s('123'), 'int', i(123)],
      [s('-9223372036854775808'), 'int', i(-9223372036854775808n)],
      [s('9223372036854775808'), 'int', s('9223372036854775808')],
      [s('1.5'), 'int', s('1.5')],
      [s(' 7'), 'int', s(' 7')],
      [d(3.9), 'int', i(3)],
      [d(-3.9), 'int', i(-3)],
      [b(true), 'int', i(1)],
      [i(5), 'int', i(5)],
      [s('2.5e3'), 'double', d(2500)],
      [s('-Inf'), 'double', d(-Infinity)],
      [s('1e400'), 'double', s('1e400')],
      [s('abc'), 'double', s('abc')],
      [i(7), 'double', d(7)],
      [b(false), 'double', d(0)],
      [i(-12), 'string', s('-12')],
      [d(0.5), 'string', s('0.5')],
      [d(1e21), 'string', s('1e+21')],
      [d(1e-7), 'string', s('1e-7')],
      [b(true), 'string', s('true')],
      [{ bytesValue: Buffer.from('hi') }, 'string', s('aGk=')],
      [{ kvlistValue: { values: [kv('b', i(1)), kv('a', s('<x>'))] } }, 'string', s('{"a":"\\u003cx\\u003e","b":1}')],
      [{ arrayValue: { values: [s('a'), d(1.5)] } }, 'int', { arrayValue: { values: [s('a'), d(1.5)] } }],
    ];
    for (const [from, to, want] of cases) {
      const r = await run([{ key: 'v', action: 'convert', converted_type: to }], [kv('v', from)]);
      assert.deepEqual(r.attrs, [['v', want]], `${JSON.stringify(from, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x))} -> ${to}`);
    }
  });

  it('actions run in order and see earlier results (copy then hash the copy, delete the original)', async () => {
    const r = await run(
      [
        { key: 'user.email.hash', action: 'insert', from_attribute: 'user.email' },
        { key: 'user.email.hash', action: 'hash' },
        { key: 'user.email', action: 'delete' },
        { key: 'user.email.hash', action: 'update', value: 'x' },
      ],
      [kv('user.email', s('a@b.c'))],
    );
    assert.deepEqual(r.attrs, [['user.email.hash', s('x')]]);
  });

  it('keeps an edited KeyValue’s unknown fields and dropped_attributes_count', async () => {
    // A KeyValue with an unknown field 3 (varint 1) after its key and value.
    const kvBytes = Buffer.concat([encodeStringKeyValue('a', 'old'), Buffer.from([0x18, 0x01])]);
    const plain = encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [fullSpan([])] }] }] });
    const view = TracesData.fromProto(plain).view;
    const req = appendToSpans(plain, new Map([[view.spanStart(0), lenField(TAG_SPAN_ATTRIBUTES, kvBytes)]]));
    const next = new Capture();
    await new AttributesProcessor(settings, decodeConfig(attributesConfig, { actions: [{ key: 'a', action: 'update', value: 'new' }] }), next).consumeTraces(TracesData.fromProto(req));
    const out = Buffer.from(next.got[0]!.bytes);
    const want = Buffer.concat([Buffer.from([0x0a, 0x01, 0x61]), Buffer.from([0x18, 0x01]), Buffer.from([0x12, 0x05, 0x0a, 0x03]), Buffer.from('new')]);
    assert.ok(out.includes(Buffer.from(lenField(TAG_SPAN_ATTRIBUTES, want))), 'key and unknown field kept, value replaced');
    assert.equal(decodeTraceRequest(out).resourceSpans![0]!.scopeSpans![0]!.spans![0]!.droppedAttributesCount, 3);
  });

  it('edits only the spans it changes: other spans, scopes and resources are copied byte for byte', async () => {
    const req = encodeTraceRequest({
      resourceSpans: [
        { resource: { attributes: [kv('service.name', s('a'))] }, scopeSpans: [{ spans: [{ name: 'one', attributes: [kv('k', s('1'))] }, { name: 'two' }] }] },
        { resource: { attributes: [kv('service.name', s('b'))] }, scopeSpans: [{ spans: [{ name: 'three' }] }] },
      ],
    });
    const next = new Capture();
    await new AttributesProcessor(settings, decodeConfig(attributesConfig, { actions: [{ key: 'k', action: 'update', value: '2' }] }), next).consumeTraces(TracesData.fromProto(req));
    const out = Buffer.from(next.got[0]!.bytes);
    const second = encodeTraceRequest({ resourceSpans: [{ resource: { attributes: [kv('service.name', s('b'))] }, scopeSpans: [{ spans: [{ name: 'three' }] }] }] });
    assert.ok(out.includes(Buffer.from(second)), 'the untouched ResourceSpans is copied whole');
    const got = decodeTraceRequest(out).resourceSpans!.map((rs) => rs.scopeSpans![0]!.spans!.map((sp) => [sp.name, pairs(sp.attributes)]));
    assert.deepEqual(got, [
      [
        ['one', [['k', s('2')]]],
        ['two', []],
      ],
      [['three', []]],
    ]);
    assert.equal(next.got[0]!.spanCount, 3);
  });
});
