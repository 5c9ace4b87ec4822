// Envoy-shaped Zipkin v2 (hand-written fixtures: Istio with 128-bit IDs, plain Envoy with 64-bit
// IDs, shared SERVER/CLIENT halves, the sidecar's own export call) through a running sidecar to
// the sink, as JSON, gzip'd JSON and proto3.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { KeyValue } from '../../../../sidecar/pdata/otlp-schema.ts';
import { START_TIME_ABSENT } from '../../../../sidecar/receivers/zipkin/to-traces.ts';
import { encodeListOfSpans } from './proto-writer.ts';
import { post, startZipkin, type Running } from './service.ts';

const fixture = (name: string) => readFileSync(new URL(`../../testdata/zipkin/${name}`, import.meta.url), 'utf8');
const ISTIO = fixture('istio-128bit.json');
const ENVOY = fixture('envoy-64bit.json');

const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');
const attr = (attrs: KeyValue[] | undefined, key: string) => attrs?.find((a) => a.key === key)?.value;
const str = (attrs: KeyValue[] | undefined, key: string) => attr(attrs, key)?.stringValue;

type Encoding = [name: string, encode: (json: string) => { body: Buffer; headers: Record<string, string> }];
const ENCODINGS: Encoding[] = [
  ['JSON', (j) => ({ body: Buffer.from(j), headers: { 'Content-Type': 'application/json' } })],
  ['gzip JSON', (j) => ({ body: gzipSync(j), headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' } })],
  ['proto3', (j) => ({ body: encodeListOfSpans(JSON.parse(j) as Record<string, unknown>[]), headers: { 'Content-Type': 'application/x-protobuf' } })],
  ['gzip proto3', (j) => ({ body: gzipSync(encodeListOfSpans(JSON.parse(j) as Record<string, unknown>[])), headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'gzip' } })],
];

describe('zipkin receiver with Envoy-shaped spans', () => {
  let run: Running;
  beforeEach(async () => {
    run = await startZipkin();
  });
  afterEach(() => run.svc.shutdown());

  for (const [name, encode] of ENCODINGS) {
    it(`maps Istio spans (128-bit IDs, shared halves, Istio tags) sent as ${name}`, async () => {
      const { body, headers } = encode(ISTIO);
      const res = await post(run.url, body, headers);
      assert.equal(res.status, 202, res.text);
      assert.equal(res.text, '');
      // 202 is sent after the pipeline took the data, so the sink already holds it.
      assert.equal(run.sink.batches.length, 1, 'one request, one TracesData');
      const spans = run.sink.spans();

      // Both halves of the shared span are kept, same IDs, told apart by kind and service.
      const halves = spans.filter((s) => hex(s.span.spanId) === '00f067aa0ba902b7');
      assert.equal(halves.length, 2);
      const client = halves.find((s) => s.span.kind === 3)!;
      const server = halves.find((s) => s.span.kind === 2)!;
      assert.ok(client && server, 'one CLIENT and one SERVER half');
      for (const h of [client, server]) {
        assert.equal(hex(h.span.traceId), '4bf92f3577b34da6a3ce929d0e0e4736');
        assert.equal(hex(h.span.parentSpanId), '53995c3f42cd8ad8');
      }
      assert.equal(str(client.resource?.attributes, 'service.name'), 'productpage.bookinfo');
      assert.equal(str(server.resource?.attributes, 'service.name'), 'reviews.bookinfo');

      // Istio and Envoy tags stay string attributes, exactly as sent.
      const a = server.span.attributes;
      assert.equal(str(a, 'istio.canonical_service'), 'reviews');
      assert.equal(str(a, 'node_id'), 'sidecar~10.244.2.31~reviews-v2-5b667bcbf8-9qzvl.bookinfo~bookinfo.svc.cluster.local');
      assert.equal(str(a, 'guid:x-request-id'), '6f1e2b9c-5a1d-9f0e-8c2b-1d4e5f6a7b8c');
      assert.equal(str(a, 'upstream_cluster'), 'inbound|9080||');
      assert.equal(str(a, 'http.url'), 'http://reviews:9080/reviews/0');
      assert.equal(str(a, 'http.status_code'), '200');
      assert.equal(str(a, 'response_flags'), '-');
      assert.equal(str(a, 'user_agent'), 'python-requests/2.31.0');
      assert.equal(str(a, 'component'), 'proxy');
      // localEndpoint → net.host.*, remoteEndpoint → net.peer.*.
      assert.equal(str(a, 'net.host.ip'), '10.244.2.31');
      assert.equal(attr(a, 'net.host.port')?.intValue, 9080n);
      assert.equal(str(client.span.attributes, 'net.peer.ip'), '10.244.2.31');
      assert.equal(attr(client.span.attributes, 'net.peer.port')?.intValue, 9080n);

      // µs → ns.
      assert.equal(server.span.startTimeUnixNano, 1732000000124100000n);
      assert.equal(server.span.endTimeUnixNano, 1732000000124100000n + 3902000n);
      assert.equal(server.span.status?.code ?? 0, 0);

      // The span Envoy recorded for the sidecar's own export call carries the User-Agent in
      // `user_agent`, which the self-tracing filter keys on: dropped where the service has that
      // filter (it is another component's), otherwise passed on intact.
      const own = spans.find((s) => hex(s.span.traceId) === '5759e988bd862e3fe1be46a994272793');
      const dropped = /tracebridge_selffilter_dropped_spans_total\{[^}]*\} (\d+)/.exec(run.svc.metrics.render());
      if (dropped !== null) {
        assert.equal(dropped[1], '1', 'the export-call span is dropped by the self-tracing filter');
        assert.equal(own, undefined);
        assert.equal(spans.length, 2);
      } else {
        assert.equal(spans.length, 3);
        assert.equal(str(own?.span.attributes, 'user_agent'), 'tracebridge/0.1.0 (otlphttp)');
        assert.equal(str(own?.span.attributes, 'upstream_cluster'), 'outbound|443||xray.us-east-1.amazonaws.com');
      }
    });

    it(`maps plain Envoy spans (64-bit IDs, errors, self-parent, no timestamp) sent as ${name}`, async () => {
      const { body, headers } = encode(ENVOY);
      const res = await post(run.url, body, headers);
      assert.equal(res.status, 202, res.text);
      await run.sink.waitForSpans(5);
      const spans = run.sink.spans();
      for (const s of spans) assert.equal(hex(s.span.traceId), '0000000000000000a3ce929d0e0e4736', '64-bit trace IDs are left-padded');

      const root = spans.find((s) => s.span.name === 'ingress' && hex(s.span.spanId) === 'a3ce929d0e0e4736')!;
      assert.equal(root.span.parentSpanId?.length ?? 0, 0);
      assert.equal(root.span.status?.code, 2, 'error: true → ERROR');
      assert.equal(attr(root.span.attributes, 'error'), undefined, 'error: true is consumed');
      assert.equal(str(root.span.attributes, 'response_flags'), 'UF,URX');

      const halves = spans.filter((s) => hex(s.span.spanId) === '1f2e3d4c5b6a7980');
      assert.deepEqual(halves.map((h) => h.span.kind).sort(), [2, 3]);
      const client = halves.find((h) => h.span.kind === 3)!;
      assert.deepEqual(client.span.events?.map((e) => [e.name, e.timeUnixNano]), [['upstream_reset', 1732000001014000000n]]);

      const selfParented = spans.find((s) => s.span.name === 'self-parented')!;
      assert.equal(selfParented.span.parentSpanId?.length ?? 0, 0, 'parentId == id is dropped');

      const late = spans.find((s) => s.span.name === 'late tags')!;
      assert.equal(late.span.startTimeUnixNano ?? 0n, 0n);
      assert.equal(late.span.endTimeUnixNano, 250000n);
      assert.equal(attr(late.span.attributes, START_TIME_ABSENT)?.boolValue, true);
      assert.equal(late.span.kind ?? 0, 0, 'no kind → UNSPECIFIED, as the collector');

      // Two services, two resources; both in the one request.
      const services = new Set(spans.map((s) => str(s.resource?.attributes, 'service.name')));
      assert.deepEqual([...services].sort(), ['front-envoy', 'service1']);
      assert.equal(run.sink.batches[0]!.toObjects().resourceSpans?.length, 2);
    });
  }

  it('counts proto3 requests under the http_v2_proto transport', async () => {
    const res = await post(run.url, encodeListOfSpans(JSON.parse(ENVOY) as Record<string, unknown>[]), { 'Content-Type': 'application/x-protobuf' });
    assert.equal(res.status, 202);
    assert.match(run.svc.metrics.render(), /otelcol_receiver_accepted_spans_total\{[^}]*transport="http_v2_proto"[^}]*\} 5/);
  });

  it('takes a request without Content-Type as JSON, as Zipkin servers do', async () => {
    const res = await post(run.url, ENVOY, {});
    assert.equal(res.status, 202, res.text);
    await run.sink.waitForSpans(5);
  });

  it('answers an empty list 202 without passing anything on', async () => {
    const res = await post(run.url, '[]');
    assert.equal(res.status, 202);
    assert.equal(run.sink.batches.length, 0);
  });
});
