// The filter processor on real encodings (protobufjs, the OpenTelemetry JS SDK, hand-framed
// requests with unknown fields): OTTL semantics evaluated on the wire form, what is dropped and
// what stays byte for byte, error_mode, and the metrics.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { CreateSettings, TracesConsumer } from '../../../../sidecar/component/component.ts';
import { PermanentError } from '../../../../sidecar/component/errors.ts';
import { decodeOrThrow } from '../../../../sidecar/config/schema.ts';
import { filterConfig } from '../../../../sidecar/processors/filter/config.ts';
import { filterProcessorFactory } from '../../../../sidecar/processors/filter/factory.ts';
import { decodeTraceRequest, encodeTraceRequest, type AnyValue, type Span } from '../../../../sidecar/pdata/otlp-schema.ts';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';
import { createLogger } from '../../../../sidecar/telemetry/logger.ts';
import { MetricsRegistry } from '../../../../sidecar/telemetry/metrics.ts';
import { metricValue } from '../../../support/delivery.ts';
import { cat, eventPayload, len, linkPayload, requestWithUnknownFieldsEverywhere, spanPayload, statusPayload, traceRequest, unknownFields, vint } from '../../pdata/framing.ts';

class Capture implements TracesConsumer {
  readonly got: TracesData[] = [];
  consumeTraces(data: TracesData): Promise<void> {
    this.got.push(data);
    return Promise.resolve();
  }
}

interface Harness {
  consume(bytes: Uint8Array): Promise<TracesData | undefined>;
  metrics: MetricsRegistry;
  logs: string[];
}

async function filter(raw: unknown): Promise<Harness> {
  const cfg = decodeOrThrow(filterConfig, raw, 'processors.filter');
  const logs: string[] = [];
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString());
        cb();
      },
    }),
  );
  const metrics = new MetricsRegistry();
  const settings: CreateSettings = { id: 'filter/test', kind: 'processor', logger, metrics, pipeline: 'traces' };
  const capture = new Capture();
  const p = await filterProcessorFactory.create(settings, cfg, capture);
  return {
    metrics,
    logs,
    async consume(bytes) {
      const before = capture.got.length;
      await p.consumeTraces(TracesData.fromProto(bytes));
      return capture.got.length > before ? capture.got[capture.got.length - 1] : undefined;
    },
  };
}

const s = (v: string): AnyValue => ({ stringValue: v });

/** One span with attributes of every kind, under a resource and a scope with attributes. */
function fixture(): Uint8Array {
  const span: Span = {
    traceId: new Uint8Array(16).fill(1),
    spanId: new Uint8Array(8).fill(2),
    name: 'GET /healthz',
    kind: 2,
    startTimeUnixNano: 1_700_000_000_000_000_000n,
    endTimeUnixNano: 1_700_000_000_500_000_000n,
    status: { code: 2, message: 'boom' },
    attributes: [
      { key: 's', value: s('abc') },
      { key: 'i', value: { intValue: 42 } },
      { key: 'neg', value: { intValue: -7n } },
      { key: 'big', value: { intValue: 9007199254740993n } },
      { key: 'd', value: { doubleValue: 1.5 } },
      { key: 'b', value: { boolValue: true } },
      { key: 'bytes', value: { bytesValue: Uint8Array.from([0xca, 0xfe]) } },
      { key: 'arr', value: { arrayValue: { values: [s('x'), { intValue: 2 }] } } },
      { key: 'map', value: { kvlistValue: { values: [{ key: 'n', value: { intValue: 1 } }, { key: 'k', value: s('v<&>') }] } } },
      { key: 'mapnan', value: { kvlistValue: { values: [{ key: 'x', value: { doubleValue: NaN } }] } } },
      { key: 'empty', value: {} },
      { key: 'u', value: s('\uffff') },
      { key: 's', value: s('second value of a repeated key') },
    ],
    events: [{ name: 'exception', timeUnixNano: 1_700_000_000_100_000_000n, attributes: [{ key: 'exception.type', value: s('IOError') }] }],
  };
  return encodeTraceRequest({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: s('checkout') }] },
        scopeSpans: [{ scope: { name: 'lib', version: '1.2.3', attributes: [{ key: 'sk', value: { intValue: 7 } }] }, spans: [span] }],
      },
    ],
  });
}

async function dropped(condition: string): Promise<boolean> {
  const h = await filter({ error_mode: 'propagate', traces: { span: [condition] } });
  return (await h.consume(fixture())) === undefined;
}

describe('filter processor: OTTL semantics on the wire form', () => {
  const cases: [string, boolean][] = [
    ['name == "GET /healthz"', true],
    ['name != "GET /healthz"', false],
    ['span.name == "GET /healthz"', true],
    ['"GET /healthz" == name', true],
    ['attributes["s"] == "abc"', true],
    ['attributes["s"] < "abd" and attributes["s"] >= "abc"', true],
    ['attributes["s"] > "abc"', false],
    ['attributes["i"] == 42', true],
    ['attributes["i"] == 42.0', true],
    ['attributes["i"] > 41.5 and attributes["i"] <= 42', true],
    ['attributes["i"] == "42"', false],
    ['attributes["i"] != "42"', true],
    ['attributes["i"] < "42"', false],
    ['attributes["neg"] == -7 and attributes["neg"] < 0', true],
    ['attributes["big"] == 9007199254740993', true],
    ['attributes["big"] == 9007199254740992', false],
    ['attributes["d"] == 1.5 and attributes["d"] < 2 and attributes["d"] > 1', true],
    ['attributes["b"] == true and attributes["b"] > false', true],
    ['attributes["b"] == 1', false],
    ['attributes["bytes"] == 0xcafe and attributes["bytes"] > 0xca', true],
    ['attributes["missing"] == nil', true],
    ['attributes["missing"] != nil', false],
    ['attributes["missing"] < 1 or attributes["missing"] >= 1', false],
    ['attributes["missing"] != 1', true],
    ['attributes["empty"] == nil', true],
    ['nil == nil and nil <= nil', true],
    ['attributes["map"]["k"] == "v<&>"', true],
    ['attributes["map"]["nope"] == nil', true],
    ['attributes["missing"]["x"] == nil', true],
    ['attributes["arr"][0] == "x" and attributes["arr"][1] == 2', true],
    ['attributes["arr"] == attributes["arr"] and attributes["map"] == attributes["map"]', true],
    ['attributes["arr"] != attributes["map"]', true],
    ['attributes["map"] < attributes["map"]', false],
    // Go compares strings by UTF-8 bytes: U+FFFF sorts before U+1F600 (not in UTF-16 order).
    ['attributes["u"] < "😀"', true],
    ['kind == SPAN_KIND_SERVER and kind == 2', true],
    ['kind == SPAN_KIND_CLIENT', false],
    ['kind.string == "Server" and kind.deprecated_string == "SPAN_KIND_SERVER"', true],
    ['status.code == STATUS_CODE_ERROR and status.message == "boom"', true],
    ['trace_id.string == "01010101010101010101010101010101" and span_id.string == "0202020202020202"', true],
    ['parent_span_id.string == "" and trace_state == ""', true],
    ['start_time_unix_nano == 1700000000000000000 and end_time_unix_nano > start_time_unix_nano', true],
    ['resource.attributes["service.name"] == "checkout"', true],
    ['resource.attributes["service.name"] == "cart"', false],
    ['instrumentation_scope.name == "lib" and instrumentation_scope.version == "1.2.3" and scope.attributes["sk"] == 7', true],
    ['IsMatch(name, "^GET /health")', true],
    ['IsMatch(name, "^get")', false],
    ['IsMatch(name, "(?i)^get")', true],
    ['IsMatch(attributes["i"], "^4\\\\d$")', true],
    ['IsMatch(attributes["bytes"], "^cafe$")', true],
    ['IsMatch(attributes["map"], "^\\\\{\\"k\\":\\"v\\\\\\\\u003c\\\\\\\\u0026\\\\\\\\u003e\\",\\"n\\":1\\\\}$")', true],
    ['IsMatch(attributes["arr"], "^\\\\[\\"x\\",2\\\\]$")', true],
    ['IsMatch(attributes["missing"], ".*")', false],
    ['IsMatch(attributes["empty"], ".*")', false],
    ['IsMatch(kind, "^2$")', true],
    ['IsMatch(target = name, pattern = "healthz$")', true],
    ['IsString(attributes["s"]) and IsString(name) and not IsString(attributes["i"])', true],
    ['IsInt(attributes["i"]) and not IsInt(attributes["d"]) and IsDouble(attributes["d"])', true],
    ['IsBool(attributes["b"]) and IsMap(attributes["map"]) and IsList(attributes["arr"])', true],
    ['IsString(attributes["missing"]) or IsMap(attributes["arr"])', false],
    ['IsMatch(name, "x") == false', true],
    ['not (name == "GET /healthz" and kind == SPAN_KIND_CLIENT)', true],
    ['name == "x" or kind == SPAN_KIND_SERVER and status.code == 2', true],
    ['true', true],
    ['false', false],
  ];
  for (const [condition, want] of cases) {
    it(`${condition} is ${want}`, async () => {
      assert.equal(await dropped(condition), want);
    });
  }

  it('reads attributes in any field order, with unknown fields, a repeated key field (last wins) and long values', async () => {
    const u = unknownFields();
    const long = 'x'.repeat(300);
    const span = spanPayload(
      len(9, cat(len(2, len(1, 'value first')), len(1, 'k1'))),
      len(9, cat(len(1, 'k2'), u, len(2, len(1, 'with unknown fields')))),
      len(9, cat(len(1, 'not k3'), len(1, 'k3'), len(2, len(1, 'key repeated')))),
      len(9, cat(len(1, 'k4'), len(2, len(1, long)))),
      len(9, cat(len(1, 'k5'))),
    );
    const all = 'attributes["k1"] == "value first" and attributes["k2"] == "with unknown fields" and attributes["k3"] == "key repeated" and attributes["not k3"] == nil and IsMatch(attributes["k4"], "^x{300}$") and attributes["k5"] == nil and not IsString(attributes["k5"])';
    const h = await filter({ error_mode: 'propagate', traces: { span: [all] } });
    assert.equal(await h.consume(traceRequest({ spans: [span] })), undefined);
    const one = await filter({ error_mode: 'propagate', traces: { span: ['attributes["k1"] == "value"'] } });
    assert.ok(await one.consume(traceRequest({ spans: [span] })));
  });

  it('the first of two attributes with one key is the one read', async () => {
    assert.equal(await dropped('attributes["s"] == "second value of a repeated key"'), false);
  });
});

describe('filter processor: runtime errors and error_mode', () => {
  const failing: [string, RegExp][] = [
    ['attributes["s"]["x"] == nil', /type Str does not support string indexing/],
    ['attributes["arr"][5] == nil', /index 5 out of bounds/],
    ['attributes["arr"]["x"] == nil', /slice must be indexed by an int/],
    ['attributes["map"][0] == nil', /map must be indexed by a string/],
    ['attributes["empty"]["x"] == nil', /type Empty does not support string indexing/],
    ['IsMatch(attributes["mapnan"], "x")', /json: unsupported value: NaN/],
  ];
  for (const [condition, why] of failing) {
    it(`propagate refuses the batch with a permanent error when ${condition} fails`, async () => {
      const h = await filter({ error_mode: 'propagate', traces: { span: [condition] } });
      await assert.rejects(h.consume(fixture()), (err: Error) => {
        assert.ok(err instanceof PermanentError);
        assert.match(err.message, why);
        assert.match(err.message, /processor filter\/test: condition traces\.span\[0\]/);
        assert.match(err.message, /error_mode: propagate/);
        return true;
      });
      assert.equal(metricValue(h.metrics.render(), 'tracebridge_processor_filter_condition_errors_total', { pipeline: 'traces', processor: 'filter/test' }), 1);
    });
  }

  it('ignore (the default) treats a failing condition as false, goes on to the next one, logs once per interval and counts', async () => {
    const h = await filter({ traces: { span: ['attributes["s"]["x"] == nil', 'attributes["i"] == 1'] } });
    for (let i = 0; i < 3; i++) assert.ok(await h.consume(fixture()), 'kept: the failing condition counts as false');
    assert.equal(h.logs.length, 1);
    const line = JSON.parse(h.logs[0]!) as Record<string, unknown>;
    assert.equal(line.level, 'warn');
    assert.equal(line.where, 'traces.span[0]');
    assert.match(String(line.error), /does not support string indexing/);
    assert.equal(metricValue(h.metrics.render(), 'tracebridge_processor_filter_condition_errors_total', { pipeline: 'traces', processor: 'filter/test' }), 3);

    const next = await filter({ traces: { span: ['attributes["s"]["x"] == nil', 'attributes["i"] == 42'] } });
    assert.equal(await next.consume(fixture()), undefined, 'the next condition still drops the span');
  });

  it('silent treats a failing condition as false without logging', async () => {
    const h = await filter({ error_mode: 'silent', traces: { span: ['attributes["arr"][9] == nil'] } });
    assert.ok(await h.consume(fixture()));
    assert.deepEqual(h.logs, []);
  });
});

/** The payload bytes of every span in a request, in order. */
function spanBytes(bytes: Uint8Array): Buffer[] {
  const d = TracesData.fromProto(bytes);
  const v = d.view;
  return Array.from({ length: v.spanCount }, (_, k) => Buffer.from(d.bytes.subarray(v.spanStart(k), v.spanEnd(k))));
}

describe('filter processor: what is dropped and what stays byte for byte', () => {
  it('drops matching spans; kept spans, resources and scopes are byte-identical, unknown fields included; emptied scopes go', async () => {
    const u = unknownFields();
    const probe = spanPayload(len(9, cat(len(1, 'user_agent.original'), len(2, len(1, 'kube-probe/1.30')))), u);
    const keptA = spanPayload(len(9, cat(len(1, 'user_agent.original'), len(2, len(1, 'Mozilla/5.0')))), len(11, eventPayload(u)), len(13, linkPayload(u)), len(15, statusPayload(u)), u);
    const keptB = spanPayload(vint(99, 12345));
    const first = traceRequest({ spans: [probe, keptA, keptB], resourceSpansExtra: [u], scopeSpansExtra: [u] });
    const onlyProbe = traceRequest({ spans: [probe] });
    const request = Buffer.concat([first, onlyProbe, requestWithUnknownFieldsEverywhere()]);
    const h = await filter({ traces: { span: ['IsMatch(attributes["user_agent.original"], "^kube-probe/")'] } });
    const out = (await h.consume(request))!;
    assert.equal(out.spanCount, 3);
    assert.deepEqual(spanBytes(out.bytes), [keptA, keptB, spanBytes(requestWithUnknownFieldsEverywhere())[0]!]);
    // Everything but the dropped span fields (and the ResourceSpans holding only the probe) is as sent.
    const expected = Buffer.concat([traceRequest({ spans: [keptA, keptB], resourceSpansExtra: [u], scopeSpansExtra: [u] }), requestWithUnknownFieldsEverywhere()]);
    assert.deepEqual(Buffer.from(out.bytes), expected);
    assert.equal(metricValue(h.metrics.render(), 'otelcol_processor_filter_spans_filtered_total', { pipeline: 'traces', processor: 'filter/test' }), 2);
  });

  it('passes the very same data on when nothing matches, and nothing when everything does', async () => {
    const h = await filter({ traces: { span: ['name == "nothing is called this"'] } });
    const data = TracesData.fromProto(fixture());
    const capture = new Capture();
    const cfg = decodeOrThrow(filterConfig, { traces: { span: ['name == "nothing is called this"'] } }, 'p');
    const p = await filterProcessorFactory.create({ id: 'filter', kind: 'processor', logger: createLogger('silent'), metrics: new MetricsRegistry() }, cfg, capture);
    await p.consumeTraces(data);
    assert.equal(capture.got[0], data);
    assert.ok(await h.consume(fixture()));
    const all = await filter({ traces: { span: ['true'] } });
    assert.equal(await all.consume(fixture()), undefined);
  });

  it('drops span events matching a spanevent condition; the rest of the span stays byte-identical', async () => {
    const u = unknownFields();
    const exception = eventPayload(len(2, 'exception'), u);
    const retry = eventPayload(u);
    const span = spanPayload(len(11, exception), len(11, retry), len(15, statusPayload()), u);
    const otherSpan = spanPayload(len(11, retry));
    const h = await filter({ traces: { spanevent: ['name == "exception" and span.name == "GET /orders"'] } });
    const out = (await h.consume(traceRequest({ spans: [span, otherSpan] })))!;
    assert.equal(out.spanCount, 2);
    assert.deepEqual(spanBytes(out.bytes), [spanPayload(len(11, retry), len(15, statusPayload()), u), otherSpan]);
    assert.equal(metricValue(h.metrics.render(), 'tracebridge_processor_filter_span_events_filtered_total', { pipeline: 'traces', processor: 'filter/test' }), 1);
  });

  it('keeps a span whose events are all dropped; a span dropped by a span condition is not checked for events', async () => {
    const h = await filter({ traces: { span: ['attributes["i"] == 42'], spanevent: ['attributes["exception.type"] == "IOError"'] } });
    assert.equal(await h.consume(fixture()), undefined);
    assert.equal(metricValue(h.metrics.render(), 'tracebridge_processor_filter_span_events_filtered_total', { pipeline: 'traces', processor: 'filter/test' }), 0);

    const events = await filter({ traces: { spanevent: ['attributes["exception.type"] == "IOError" and resource.attributes["service.name"] == "checkout"'] } });
    const out = (await events.consume(fixture()))!;
    const span = decodeTraceRequest(out.bytes).resourceSpans![0]!.scopeSpans![0]!.spans![0]!;
    assert.equal(span.name, 'GET /healthz');
    assert.deepEqual(span.events ?? [], []);
    assert.equal(span.attributes!.length, 13);
  });

  it('reads what the OpenTelemetry JS SDK encoded (IDs, kind, status, scope) and drops by them', async () => {
    const { sdkRequest } = await import('../../pdata/framing.ts');
    const bytes = sdkRequest(3);
    const h = await filter({ traces: { span: ['name == "op-1" and instrumentation_scope.name == "fuzz" and instrumentation_scope.version == "1.2.3" and status.code == STATUS_CODE_ERROR and kind == SPAN_KIND_INTERNAL and attributes["i"] == 1 and attributes["ratio"] == 0.5 and resource.attributes["k8s.pod.uid"] == "é-ü-漢"'] } });
    const out = (await h.consume(bytes))!;
    assert.deepEqual(
      decodeTraceRequest(out.bytes).resourceSpans![0]!.scopeSpans![0]!.spans!.map((x) => x.name),
      ['op-0', 'op-2'],
    );
  });
});
