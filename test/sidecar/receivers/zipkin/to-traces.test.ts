// The Zipkin v2 → OTLP mapping, rule by rule against the collector's zipkinv2 translator, plus
// properties over random IDs and times that survive the OTLP encode/decode round trip.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { KeyValue, Span } from '../../../../sidecar/pdata/otlp-schema.ts';
import { decodeTraceRequest } from '../../../../sidecar/pdata/otlp-schema.ts';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';
import { parseHexId } from '../../../../sidecar/receivers/zipkin/model.ts';
import { microsToNanos, START_TIME_ABSENT, toTraceRequest } from '../../../../sidecar/receivers/zipkin/to-traces.ts';
import { decodeZipkinJson } from '../../../../sidecar/receivers/zipkin/zipkin-json.ts';

const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');
const attr = (attrs: KeyValue[] | undefined, key: string) => attrs?.find((a) => a.key === key)?.value;
const keys = (attrs: KeyValue[] | undefined) => (attrs ?? []).map((a) => a.key).sort();

const BASE = { traceId: '463ac35c9f6413ad48485a3953bb6124', id: 'a2fb4a1d1a96d312', name: 'op', timestamp: 1732000000000000, duration: 1500 };

function map(spans: Record<string, unknown>[], parseStringTags = false) {
  return toTraceRequest(decodeZipkinJson(JSON.stringify(spans.map((s) => ({ ...BASE, ...s })))), { parseStringTags });
}
function one(fields: Record<string, unknown>, parseStringTags = false): { span: Span; resource: KeyValue[] } {
  const rs = map([fields], parseStringTags).resourceSpans![0]!;
  return { span: rs.scopeSpans![0]!.spans![0]!, resource: rs.resource?.attributes ?? [] };
}

describe('zipkin → OTLP mapping', () => {
  it('left-pads 64-bit trace IDs with 8 zero bytes and keeps 128-bit ones', () => {
    assert.equal(hex(one({ traceId: '48485a3953bb6124' }).span.traceId), '000000000000000048485a3953bb6124');
    assert.equal(hex(one({}).span.traceId), '463ac35c9f6413ad48485a3953bb6124');
    // Shorter than 16 (Zipkin pads, zipkin-go parses as a number): still the low half.
    assert.equal(hex(one({ traceId: 'abc', id: '1' }).span.traceId), '00000000000000000000000000000abc');
    assert.equal(hex(one({ id: '1' }).span.spanId), '0000000000000001');
  });

  it('converts microseconds to nanoseconds, fractions included', () => {
    const { span } = one({ timestamp: 1732000000123456, duration: 4871 });
    assert.equal(span.startTimeUnixNano, 1732000000123456000n);
    assert.equal(span.endTimeUnixNano, 1732000000123456000n + 4871000n);
    assert.equal(one({ timestamp: 1732000000123456.5, duration: 0.25 }).span.startTimeUnixNano, 1732000000123456500n);
    assert.equal(one({ timestamp: '1732000000123456' }).span.startTimeUnixNano, 1732000000123456000n, 'Envoy 1.12 strings');
    assert.equal(one({ timestamp: 1.58266276796031e15 }).span.startTimeUnixNano, 1582662767960310000n, 'Envoy 1.13 exponents');
  });

  it('starts a span without timestamp at the epoch and flags it as the collector does', () => {
    const { span } = one({ timestamp: undefined, duration: 250 });
    assert.equal(span.startTimeUnixNano, 0n);
    assert.equal(span.endTimeUnixNano, 250000n);
    assert.equal(attr(span.attributes, START_TIME_ABSENT)?.boolValue, true);
    assert.equal(attr(one({}).span.attributes, START_TIME_ABSENT), undefined);
  });

  it('maps the four Zipkin kinds; no kind is UNSPECIFIED unless span.kind says internal', () => {
    const kinds = ['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER'].map((kind) => one({ kind }).span.kind);
    assert.deepEqual(kinds, [3, 2, 4, 5]);
    assert.equal(one({}).span.kind, 0);
    assert.equal(one({ kind: 'client' }).span.kind, 0, 'kinds are upper case in Zipkin');
    const internal = one({ tags: { 'span.kind': 'internal' } }).span;
    assert.equal(internal.kind, 1);
    assert.equal(attr(internal.attributes, 'span.kind'), undefined, 'consumed');
    assert.equal(attr(one({ kind: 'SERVER', tags: { 'span.kind': 'server' } }).span.attributes, 'span.kind')?.stringValue, 'server', 'kept when kind is set');
  });

  it('drops a parent equal to the span ID and a zero parent', () => {
    assert.equal(one({ parentId: BASE.id }).span.parentSpanId, undefined);
    assert.equal(one({ parentId: '0000000000000000' }).span.parentSpanId, undefined);
    assert.equal(hex(one({ parentId: '53995c3f42cd8ad8' }).span.parentSpanId), '53995c3f42cd8ad8');
  });

  it('keeps SERVER and CLIENT halves of a shared span as two spans with the same IDs', () => {
    const req = map([
      { kind: 'CLIENT', localEndpoint: { serviceName: 'caller' } },
      { kind: 'SERVER', shared: true, localEndpoint: { serviceName: 'callee' } },
    ]);
    const spans = req.resourceSpans!.flatMap((rs) => rs.scopeSpans!.flatMap((ss) => ss.spans!));
    assert.deepEqual(spans.map((s) => [hex(s.spanId), s.kind]), [[BASE.id, 3], [BASE.id, 2]]);
    // The SERVER half says it is shared, so the X-Ray exporter can keep segment IDs unique.
    const shared = (s: (typeof spans)[number]) => s.attributes?.find((a) => a.key === 'zipkin.shared')?.value?.boolValue;
    assert.deepEqual(spans.map(shared), [undefined, true]);
  });

  it('maps endpoints to net.host.*, peer.service and net.peer.*; endpoint values win over tags', () => {
    const { span, resource } = one({
      localEndpoint: { serviceName: 'web', ipv4: '10.0.0.1', port: 8080 },
      remoteEndpoint: { serviceName: 'db', ipv4: '10.0.0.2', ipv6: '2001:db8::2', port: 5432 },
      tags: { 'peer.service': 'from-tag', 'net.host.ip': 'from-tag', 'net.peer.port': '1' },
    });
    assert.equal(attr(resource, 'service.name')?.stringValue, 'web');
    assert.equal(attr(span.attributes, 'net.host.ip')?.stringValue, '10.0.0.1');
    assert.equal(attr(span.attributes, 'net.host.port')?.intValue, 8080n);
    assert.equal(attr(span.attributes, 'peer.service')?.stringValue, 'db');
    assert.equal(attr(span.attributes, 'net.peer.ip')?.stringValue, '2001:db8::2', 'IPv6 wins, as the collector Puts it last');
    assert.equal(attr(span.attributes, 'net.peer.port')?.intValue, 5432n);
    assert.equal(span.attributes!.filter((a) => a.key === 'peer.service').length, 1);
    // Without endpoint values the tags stay.
    assert.equal(attr(one({ tags: { 'peer.service': 'from-tag' } }).span.attributes, 'peer.service')?.stringValue, 'from-tag');
  });

  it('maps otel.status_code / otel.status_description and the error tag to the status', () => {
    const cases: [Record<string, string>, number, string | undefined, string[]][] = [
      [{ 'otel.status_code': 'STATUS_CODE_OK' }, 1, undefined, []],
      [{ 'otel.status_code': 'Ok' }, 1, undefined, []],
      [{ 'otel.status_code': 'OK' }, 1, undefined, []],
      [{ 'otel.status_code': 'ERROR', 'otel.status_description': 'boom' }, 2, 'boom', []],
      [{ 'otel.status_code': 'bogus' }, 0, undefined, []],
      [{ 'otel.status_description': 'no code' }, 0, undefined, ['otel.status_description']],
      [{ error: 'true' }, 2, undefined, []],
      // The OpenTelemetry exporters put the description in `error`; the collector keeps the tag.
      [{ 'otel.status_code': 'ERROR', error: 'deadlock' }, 2, 'deadlock', ['error']],
      [{ error: '' }, 2, undefined, ['error']],
    ];
    for (const [tags, code, message, left] of cases) {
      const { span } = one({ tags });
      assert.equal(span.status?.code ?? 0, code, JSON.stringify(tags));
      assert.equal(span.status?.message, message, JSON.stringify(tags));
      assert.deepEqual(keys(span.attributes), left, JSON.stringify(tags));
    }
  });

  it('moves resource-convention tags to the resource, once per service', () => {
    const req = map([
      { localEndpoint: { serviceName: 'checkout' }, tags: { 'service.version': '1.2', 'k8s.pod.name': 'p1', 'telemetry.sdk.language': 'nodejs', 'http.method': 'GET' } },
      { localEndpoint: { serviceName: 'checkout' }, tags: { 'service.version': '9.9', 'http.method': 'POST' } },
      { localEndpoint: { serviceName: 'cart' } },
    ]);
    assert.equal(req.resourceSpans!.length, 2);
    const [checkout, cart] = req.resourceSpans!;
    assert.deepEqual(keys(checkout!.resource!.attributes), ['k8s.pod.name', 'service.name', 'service.version', 'telemetry.sdk.language']);
    assert.equal(attr(checkout!.resource!.attributes, 'service.version')?.stringValue, '1.2', 'from the first span of the service');
    const spans = checkout!.scopeSpans![0]!.spans!;
    assert.deepEqual(spans.map((s) => keys(s.attributes)), [['http.method'], ['http.method']]);
    assert.deepEqual(cart!.resource!.attributes, [{ key: 'service.name', value: { stringValue: 'cart' } }]);
  });

  it('lets otlp.service.name.source name the service attribute, and a service.name tag win', () => {
    assert.deepEqual(one({ localEndpoint: { serviceName: 'fn' }, tags: { 'otlp.service.name.source': 'faas.name' } }).resource, [{ key: 'faas.name', value: { stringValue: 'fn' } }]);
    assert.equal(attr(one({ localEndpoint: { serviceName: 'a' }, tags: { 'service.name': 'b' } }).resource, 'service.name')?.stringValue, 'b');
  });

  it('gives spans without a local service name an empty resource', () => {
    const { span, resource } = one({ tags: { 'host.name': 'h1', x: 'y' } });
    assert.deepEqual(resource, []);
    assert.deepEqual(keys(span.attributes), ['x']);
  });

  it('groups spans by otel.library.name / otel.scope.name into scopes', () => {
    const req = map([
      { localEndpoint: { serviceName: 's' }, tags: { 'otel.library.name': 'io.grpc', 'otel.library.version': '1.0' } },
      { localEndpoint: { serviceName: 's' }, tags: { 'otel.scope.name': 'express', 'otel.scope.version': '4.0' } },
      { localEndpoint: { serviceName: 's' } },
      { localEndpoint: { serviceName: 's' }, tags: { 'otel.library.name': 'io.grpc' } },
    ]);
    const scopes = req.resourceSpans![0]!.scopeSpans!;
    assert.deepEqual(scopes.map((ss) => [ss.scope, ss.spans!.length]), [[{ name: 'io.grpc', version: '1.0' }, 2], [{ name: 'express', version: '4.0' }, 1], [undefined, 1]]);
    for (const ss of scopes) for (const s of ss.spans!) assert.deepEqual(keys(s.attributes), []);
  });

  it('maps annotations to events, decoding the collector exporter encoding when valid', () => {
    const { span } = one({
      annotations: [
        { timestamp: 1732000000000100, value: 'ws' },
        { timestamp: 1732000000000200, value: 'retry|{"attempt":2,"ok":false,"why":"x","ratio":0.5}|1' },
        { timestamp: 1732000000000300, value: 'a|b|c' },
      ],
    });
    const events = span.events!;
    assert.deepEqual(events.map((e) => [e.name, e.timeUnixNano]), [['ws', 1732000000000100000n], ['retry', 1732000000000200000n], ['a|b|c', 1732000000000300000n]]);
    assert.deepEqual(events[1]!.attributes, [
      { key: 'attempt', value: { intValue: 2n } },
      { key: 'ok', value: { boolValue: false } },
      { key: 'why', value: { stringValue: 'x' } },
      { key: 'ratio', value: { doubleValue: 0.5 } },
    ]);
    assert.equal(events[1]!.droppedAttributesCount, 1);
  });

  it('decodes otlp.link.N tags into links and keeps malformed ones as attributes', () => {
    const { span } = one({
      tags: {
        'otlp.link.0': '4bf92f3577b34da6a3ce929d0e0e4736|00f067aa0ba902b7|k=v|{"a":"b"}|0',
        'otlp.link.1': 'not-a-link|x|y|{}|z',
        'otlp.link.3': 'after a gap: not read',
      },
    });
    assert.equal(span.links!.length, 1);
    assert.equal(hex(span.links![0]!.traceId), '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(hex(span.links![0]!.spanId), '00f067aa0ba902b7');
    assert.equal(span.links![0]!.traceState, 'k=v');
    assert.deepEqual(span.links![0]!.attributes, [{ key: 'a', value: { stringValue: 'b' } }]);
    assert.deepEqual(keys(span.attributes), ['otlp.link.1', 'otlp.link.3']);
  });

  it('takes the trace state from w3c.tracestate', () => {
    const { span } = one({ tags: { 'w3c.tracestate': 'rojo=00f067aa0ba902b7' } });
    assert.equal(span.traceState, 'rojo=00f067aa0ba902b7');
    assert.deepEqual(keys(span.attributes), []);
  });

  it('types tags with parse_string_tags as the collector does', () => {
    const tags = { i: '200', n: '-7', d: '0.25', b: 'true', s: '1e3', e: '', big: '99999999999999999999', v: '1.2.3' };
    const { span } = one({ tags }, true);
    assert.deepEqual(span.attributes, [
      { key: 'i', value: { intValue: 200n } },
      { key: 'n', value: { intValue: -7n } },
      { key: 'd', value: { doubleValue: 0.25 } },
      { key: 'b', value: { boolValue: true } },
      { key: 's', value: { stringValue: '1e3' } },
      { key: 'e', value: { stringValue: '' } },
      { key: 'big', value: { intValue: (1n << 63n) - 1n } },
      { key: 'v', value: { stringValue: '1.2.3' } },
    ]);
    assert.equal(attr(one({ tags }).span.attributes, 'i')?.stringValue, '200', 'strings by default');
  });

  it('pads any 1..32 hex character trace ID as Zipkin does (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f]{1,32}$/), (text) => {
        const id = parseHexId(text, 16)!;
        const expected = text.length <= 16 ? '0'.repeat(16) + text.padStart(16, '0') : text.padStart(32, '0');
        assert.equal(hex(id), expected);
      }),
    );
  });

  it('survives the OTLP encode/decode round trip with IDs and times intact (property)', () => {
    const hexOf = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`)).filter((s) => /[1-9a-f]/.test(s));
    const zspan = fc.record({
      traceId: fc.oneof(hexOf(16), hexOf(32)),
      id: hexOf(16),
      parentId: fc.option(hexOf(16), { nil: undefined }),
      timestamp: fc.integer({ min: 1, max: 4_000_000_000_000_000 }),
      duration: fc.integer({ min: 0, max: 3_600_000_000 }),
      kind: fc.constantFrom(undefined, 'CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER'),
      localEndpoint: fc.record({ serviceName: fc.constantFrom('a', 'b', 'c') }),
    });
    fc.assert(
      fc.property(fc.array(zspan, { minLength: 1, maxLength: 8 }), (zspans) => {
        const req = toTraceRequest(decodeZipkinJson(JSON.stringify(zspans)), { parseStringTags: false });
        const data = TracesData.fromObjects(req);
        assert.equal(data.spanCount, zspans.length);
        const back = decodeTraceRequest(data.bytes).resourceSpans!.flatMap((rs) => rs.scopeSpans!.flatMap((ss) => ss.spans!));
        const byId = new Map(zspans.map((z) => [`${z.id}/${z.localEndpoint.serviceName}/${z.timestamp}`, z]));
        for (const s of back) {
          const z = [...byId.values()].find((c) => c.id === hex(s.spanId) && BigInt(c.timestamp) * 1000n === s.startTimeUnixNano)!;
          assert.ok(z, 'every span comes back');
          assert.equal(hex(s.traceId), z.traceId.padStart(32, '0'));
          assert.equal(s.endTimeUnixNano, microsToNanos(z.timestamp) + microsToNanos(z.duration));
          assert.equal(hex(s.parentSpanId), z.parentId === undefined || z.parentId === z.id ? '' : z.parentId);
        }
      }),
      { numRuns: 200 },
    );
  });
});
