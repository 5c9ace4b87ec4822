// Zipkin spans through the hand-written OTLP writer: for generated spans (unicode, empty and
// numeric-looking tags, endpoints, annotations, optional fields absent) the receiver's bytes are
// protobufjs's for the same mapping, pass the wire validator, and round-trip; Zipkin JSON and
// proto3 carrying the same spans give the same bytes (one mapping for both).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';
import { toTraceRequest } from '../../../../sidecar/receivers/zipkin/to-traces.ts';
import { decodeZipkinJson } from '../../../../sidecar/receivers/zipkin/zipkin-json.ts';
import { decodeZipkinProto } from '../../../../sidecar/receivers/zipkin/zipkin-proto.ts';
import { assertWritesLikeProtobufjs } from '../../pdata/writer-check.ts';
import { encodeListOfSpans } from './proto-writer.ts';

const hexOf = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`)).filter((s) => /[1-9a-f]/.test(s));
const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom('', '0', '-1', '9223372036854775808', '1.5e300', 'true', 'FALSE', 'NaN', '😀'));
const tagKey = fc.oneof(text, fc.constantFrom('http.method', 'http.status_code', 'error', 'span.kind', 'peer.service', 'net.peer.ip', 'net.peer.port', 'net.host.ip', 'net.host.port', 'otel.status_code', 'otel.status_description', 'otel.library.name', 'otel.scope.version', 'w3c.tracestate', 'service.version', 'k8s.pod.name', 'otel.zipkin.absentField.startTime'));
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const endpoint = fc.record({ serviceName: fc.oneof(text, fc.constant('orders')), ipv4, port: fc.integer({ min: 1, max: 65535 }) }, { requiredKeys: [] });
const micros = fc.integer({ min: 1, max: 4_000_000_000_000_000 });

const zipkinSpan = fc.record(
  {
    traceId: fc.oneof(hexOf(16), hexOf(32)),
    id: hexOf(16),
    parentId: hexOf(16),
    kind: fc.constantFrom('CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER'),
    name: text,
    timestamp: micros,
    duration: fc.integer({ min: 1, max: 1e12 }),
    localEndpoint: endpoint,
    remoteEndpoint: endpoint,
    annotations: fc.array(fc.record({ timestamp: micros, value: text }), { maxLength: 3 }),
    tags: fc.dictionary(tagKey, text, { maxKeys: 8 }),
    shared: fc.boolean(),
    debug: fc.boolean(),
  },
  { requiredKeys: ['traceId', 'id'] },
);

describe('zipkin → OTLP bytes through the writer', () => {
  it('property: the receiver\'s bytes are protobufjs\'s for the same mapping, valid, and round-trip (both parse_string_tags settings)', () => {
    fc.assert(
      fc.property(fc.array(zipkinSpan, { minLength: 1, maxLength: 6 }), fc.boolean(), (spans, parseStringTags) => {
        const req = toTraceRequest(decodeZipkinJson(JSON.stringify(spans)), { parseStringTags });
        const written = assertWritesLikeProtobufjs(req);
        const data = TracesData.fromObjects(req);
        assert.deepEqual(Buffer.from(data.bytes), written);
        assert.equal(data.spanCount, spans.length);
      }),
      { numRuns: 300 },
    );
  });

  it('property: the same spans as JSON and as proto3 give the same OTLP bytes', () => {
    // proto-writer.ts writes what zipkin.proto carries (no ipv6; values as UTF-8 bytes).
    fc.assert(
      fc.property(fc.array(zipkinSpan, { minLength: 1, maxLength: 4 }), (spans) => {
        const wellFormed = spans.map((s) => JSON.parse(JSON.stringify(s).toWellFormed()) as Record<string, unknown>);
        const opts = { parseStringTags: false };
        const fromJson = TracesData.fromObjects(toTraceRequest(decodeZipkinJson(JSON.stringify(wellFormed)), opts));
        const fromProto = TracesData.fromObjects(toTraceRequest(decodeZipkinProto(encodeListOfSpans(wellFormed)), opts));
        assert.equal(Buffer.from(fromProto.bytes).toString('hex'), Buffer.from(fromJson.bytes).toString('hex'));
      }),
      { numRuns: 200 },
    );
  });

  it('an Envoy-like batch (the bench shape) encodes as before', () => {
    const span = (i: number) => ({
      traceId: '463ac35c9f6413ad48485a3953bb6124',
      id: (0x1000 + i).toString(16).padStart(16, '0'),
      parentId: 'a2fb4a1d1a96d312',
      kind: i % 2 === 0 ? 'SERVER' : 'CLIENT',
      name: 'orders.shop.svc.cluster.local:8080/api/v1/orders/*',
      timestamp: 1732000000123456,
      duration: 12345,
      shared: i % 2 === 0,
      localEndpoint: { serviceName: 'orders.shop', ipv4: '10.42.17.203' },
      remoteEndpoint: { serviceName: 'payments.shop', ipv4: '10.42.9.12', port: 8080 },
      tags: { 'http.method': 'GET', 'http.status_code': '200', 'istio.mesh_id': 'cluster.local', response_size: '1843', 'guid:x-request-id': '6c1c6f0e-3f5b', error: 'true' },
    });
    for (const parseStringTags of [false, true]) {
      assertWritesLikeProtobufjs(toTraceRequest(decodeZipkinJson(JSON.stringify(Array.from({ length: 20 }, (_, i) => span(i)))), { parseStringTags }));
    }
  });
});
