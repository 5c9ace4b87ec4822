import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ExportTraceServiceRequest, Span } from '../../../../sidecar/pdata/otlp-schema.ts';
import { SpanKind, StatusCode } from '../../../../sidecar/pdata/otlp-schema.ts';
import { serializeDocument, type SegmentDocument } from '../../../../sidecar/exporters/awsxray/document.ts';
import { fixAnnotationKey, fixSegmentName } from '../../../../sidecar/exporters/awsxray/names.ts';
import { nanosToSeconds, toXRaySegments, type TranslateOptions } from '../../../../sidecar/exporters/awsxray/translate.ts';
import { fixtureRequest, keyValues, loadFixtures, type Fixture } from './fixtures.ts';

function options(cfg: Fixture['config'] = {}): TranslateOptions {
  return {
    indexing: { indexed: new Set(cfg.indexed_attributes ?? []), indexAll: cfg.index_all_attributes ?? false, alwaysIndexed: 'tracebridge.original_trace_id' },
    logGroups: cfg.aws_log_groups ?? [],
  };
}

/** Documents as X-Ray receives them (serialized, parsed back). */
function translate(req: ExportTraceServiceRequest, opts = options()): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  toXRaySegments(req, opts, ({ doc }) => out.push(JSON.parse(serializeDocument(doc)) as Record<string, unknown>));
  return out;
}

function one(span: Span, resource: Record<string, unknown> = { 'service.name': 'svc' }, opts = options()): SegmentDocument {
  const docs = translate({ resourceSpans: [{ resource: { attributes: keyValues(resource) }, scopeSpans: [{ spans: [span] }] }] }, opts);
  assert.equal(docs.length, 1);
  return docs[0] as unknown as SegmentDocument;
}

// Allowed and forbidden characters of every kind (fc's full-unicode strings are slow to generate).
const nameChars = fc.constantFrom(...'aZ9 _.:/%&#=+\\-@*<>?"\'!()[]{}|;,~`^$\t\n\u0000éßЖ中٣🙂\u200b'.split(''), '🙂', '𝔸');

const TRACE = Buffer.from('6955b90077b34da6a3ce929d0e0e4736', 'hex');
const PARENT = Buffer.from('00f067aa0ba902b7', 'hex');

function span(over: Partial<Span> & { attrs?: Record<string, unknown> } = {}): Span {
  const { attrs, ...rest } = over;
  return {
    traceId: TRACE,
    spanId: Buffer.from('1111111111111111', 'hex'),
    parentSpanId: PARENT,
    name: 'op',
    kind: SpanKind.INTERNAL,
    startTimeUnixNano: 1767225600_000_000_000n,
    endTimeUnixNano: 1767225600_500_000_000n,
    attributes: keyValues(attrs),
    ...rest,
  };
}

describe('awsxray exporter: span → segment document', () => {
  describe('fixtures (testdata/*.json), field by field', () => {
    for (const f of loadFixtures()) {
      it(`${f.file}: ${f.description}`, () => {
        const docs = translate(fixtureRequest(f), options(f.config));
        assert.equal(docs.length, f.expected.length, 'one document per span');
        docs.forEach((doc, i) => {
          const want = f.expected[i]!;
          for (const key of new Set([...Object.keys(want), ...Object.keys(doc)])) {
            assert.deepStrictEqual(doc[key], want[key], `${f.file} span #${i} field "${key}"`);
          }
        });
      });
    }
  });

  describe('type, ids and times', () => {
    it('is a subsegment for non-SERVER spans with a parent, a segment otherwise', () => {
      assert.equal(one(span({ kind: SpanKind.CLIENT })).type, 'subsegment');
      assert.equal(one(span({ kind: SpanKind.INTERNAL })).type, 'subsegment');
      assert.equal(one(span({ kind: SpanKind.PRODUCER })).type, 'subsegment');
      assert.equal(one(span({ kind: SpanKind.SERVER })).type, undefined);
      const root = one(span({ kind: SpanKind.CLIENT, parentSpanId: undefined }));
      assert.equal(root.type, undefined);
      assert.equal(root.parent_id, undefined);
    });

    it('writes the trace ID in X-Ray form and times as float seconds', () => {
      const d = one(span({ startTimeUnixNano: 1767225600_250_000_000n, endTimeUnixNano: 1767225601_000_001_000n }));
      assert.equal(d.trace_id, '1-6955b900-77b34da6a3ce929d0e0e4736');
      assert.equal(d.start_time, 1767225600.25);
      assert.equal(d.end_time, 1767225601.000001);
    });

    it('converts nanoseconds to seconds within a double\'s precision', () => {
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }), (ns) => {
          const s = nanosToSeconds(ns);
          assert.ok(Math.abs(s - Number(ns) / 1e9) <= Math.max(1e-6, Math.abs(s) * 4e-16));
        }),
      );
    });
  });

  describe('name', () => {
    it('follows the collector\'s priority order', () => {
      const res = { 'service.name': 'frontend' };
      const server = (attrs: Record<string, unknown>) => one(span({ kind: SpanKind.SERVER, attrs }), res).name;
      const client = (attrs: Record<string, unknown>) => one(span({ kind: SpanKind.CLIENT, attrs }), res).name;
      assert.equal(server({ 'aws.local.service': 'local', 'peer.service': 'peer' }), 'local');
      assert.equal(client({ 'aws.remote.service': 'AWS::S3', 'rpc.system': 'aws-api' }), 'S3');
      assert.equal(client({ 'aws.remote.service': 'AWS::S3' }), 'AWS::S3');
      assert.equal(server({ 'peer.service': 'peer', 'aws.service': 'S3' }), 'peer');
      assert.equal(client({ 'aws.service': 'S3', 'db.name': 'x' }), 'S3');
      assert.equal(client({ 'db.name': 'orders', 'db.connection_string': 'mysql://db.internal:3306' }), 'orders@db.internal');
      assert.equal(server({ 'rpc.service': 'Greeter' }), 'frontend', 'SERVER spans take service.name before rpc.service');
      assert.equal(client({ 'rpc.service': 'Greeter', 'http.host': 'h' }), 'Greeter');
      assert.equal(client({ 'http.host': 'api.example.com:8443', 'net.peer.name': 'p' }), 'api.example.com:8443');
      assert.equal(client({ 'net.peer.name': 'peer-host' }), 'peer-host');
      assert.equal(client({}), 'op');
    });

    it('sets namespace aws for AWS SDK spans and aws.service names, remote for other CLIENT spans', () => {
      assert.equal(one(span({ kind: SpanKind.CLIENT, attrs: { 'rpc.system': 'aws-api' } })).namespace, 'aws');
      assert.equal(one(span({ kind: SpanKind.INTERNAL, attrs: { 'aws.service': 'S3' } })).namespace, 'aws');
      assert.equal(one(span({ kind: SpanKind.CLIENT })).namespace, 'remote');
      assert.equal(one(span({ kind: SpanKind.PRODUCER, attrs: { 'aws.remote.service': 'orders' } })).namespace, 'remote');
      assert.equal(one(span({ kind: SpanKind.PRODUCER })).namespace, undefined);
      assert.equal(one(span({ kind: SpanKind.SERVER })).namespace, undefined);
    });

    it('keeps only the characters X-Ray allows, at most 200 of them, never empty', () => {
      assert.equal(fixSegmentName('GET /a?b=c&d'), 'GET /ab=c&d');
      assert.equal(fixSegmentName('<>!*'), 'span');
      assert.equal(fixSegmentName('é'.repeat(300)), 'é'.repeat(200));
      const allowed = /^[\p{L}\p{N}\s_.:/%&#=+\\\-@]+$/u;
      fc.assert(
        fc.property(fc.string({ unit: nameChars, maxLength: 260 }), (s) => {
          const n = fixSegmentName(s);
          assert.match(n, allowed);
          assert.ok(Array.from(n).length <= 200);
        }),
      );
    });
  });

  describe('annotations and metadata', () => {
    it('cleans annotation keys to letters, digits, _ and .', () => {
      assert.equal(fixAnnotationKey('http.route'), 'http.route');
      assert.equal(fixAnnotationKey('a-b c/d'), 'a_b_c_d');
      assert.equal(fixAnnotationKey('ключ🙂'), '_____');
      fc.assert(fc.property(fc.string({ unit: nameChars }), (k) => assert.match(fixAnnotationKey(k), /^[A-Za-z0-9_.]*$/)));
    });

    it('indexes listed attributes with scalar values; the rest is metadata under default', () => {
      const d = one(
        span({ attrs: { 'user-tier': 'gold', count: 3, ok: true, ratio: 0.25, list: ['a'], other: 'x' } }),
        {},
        options({ indexed_attributes: ['user-tier', 'count', 'ok', 'ratio', 'list'] }),
      );
      assert.deepStrictEqual(d.annotations, { user_tier: 'gold', count: 3, ok: true, ratio: 0.25 });
      assert.deepStrictEqual(d.metadata, { default: { list: ['a'], other: 'x' } });
    });

    it('index_all_attributes indexes every scalar attribute', () => {
      const d = one(span({ attrs: { a: 'x', b: 2, c: [1] } }), {}, options({ index_all_attributes: true }));
      assert.deepStrictEqual(d.annotations, { a: 'x', b: 2 });
      assert.deepStrictEqual(d.metadata, { default: { c: [1] } });
    });

    it('always indexes tracebridge.original_trace_id when present', () => {
      const d = one(span({ attrs: { 'tracebridge.original_trace_id': '0000000000000000aabbccddeeff0011', x: 'y' } }));
      assert.deepStrictEqual(d.annotations, { 'tracebridge.original_trace_id': '0000000000000000aabbccddeeff0011' });
      assert.deepStrictEqual(d.metadata, { default: { x: 'y' } });
    });

    it('indexes an attribute that a section consumed when it is listed (addSpecialAttributes)', () => {
      const d = one(span({ kind: SpanKind.SERVER, attrs: { 'http.method': 'GET', 'http.status_code': 200 } }), {}, options({ indexed_attributes: ['http.method'] }));
      assert.deepStrictEqual(d.annotations, { 'http.method': 'GET' });
      assert.equal(d.http?.request?.method, 'GET');
    });

    it('honours aws.xray.annotations and aws.xray.metadata.<namespace>', () => {
      const d = one(
        span({
          attrs: {
            'aws.xray.annotations': ['order'],
            order: 'o-1',
            'aws.xray.metadata.billing': '{"plan":"pro"}',
            'aws.xray.metadata.default': '{"merged":1}',
            'aws.xray.metadata.bad': 'not json',
          },
        }),
      );
      assert.deepStrictEqual(d.annotations, { order: 'o-1' });
      assert.deepStrictEqual(d.metadata, { default: { merged: 1, 'aws.xray.metadata.bad': 'not json' }, billing: { plan: 'pro' } });
    });

    it('writes int64 values beyond 2^53 exactly', () => {
      const json = (() => {
        const out: string[] = [];
        toXRaySegments(
          { resourceSpans: [{ scopeSpans: [{ spans: [span({ attrs: { big: 9007199254740993n } })] }] }] },
          options({ indexed_attributes: ['big'] }),
          ({ doc }) => out.push(serializeDocument(doc)),
        );
        return out[0]!;
      })();
      assert.match(json, /"big":9007199254740993[,}]/);
    });
  });

  describe('fault, error, throttle', () => {
    const outcome = (status: number | undefined, code: number = StatusCode.UNSET) => {
      const d = one(span({ kind: SpanKind.CLIENT, attrs: status === undefined ? {} : { 'http.response.status_code': status }, status: { code } }));
      return { fault: d.fault, error: d.error, throttle: d.throttle };
    };
    it('maps HTTP status and span status as the collector does', () => {
      assert.deepStrictEqual(outcome(200), { fault: false, error: false, throttle: false });
      assert.deepStrictEqual(outcome(503), { fault: true, error: false, throttle: false });
      assert.deepStrictEqual(outcome(404), { fault: false, error: true, throttle: false });
      assert.deepStrictEqual(outcome(429), { fault: false, error: true, throttle: true });
      assert.deepStrictEqual(outcome(undefined, StatusCode.ERROR), { fault: true, error: false, throttle: false });
      assert.deepStrictEqual(outcome(404, StatusCode.ERROR), { fault: false, error: true, throttle: false });
      assert.deepStrictEqual(outcome(302, StatusCode.ERROR), { fault: true, error: false, throttle: false });
      assert.deepStrictEqual(outcome(undefined, StatusCode.OK), { fault: false, error: false, throttle: false });
    });
  });

  describe('Envoy shared span IDs', () => {
    const sharedBatch = (): ExportTraceServiceRequest => {
      const id = Buffer.from('aaaaaaaaaaaaaaaa', 'hex');
      const caller = Buffer.from('9999999999999999', 'hex');
      return {
        resourceSpans: [
          { resource: { attributes: keyValues({ 'service.name': 'a' }) }, scopeSpans: [{ spans: [span({ kind: SpanKind.CLIENT, spanId: id, parentSpanId: caller })] }] },
          {
            resource: { attributes: keyValues({ 'service.name': 'b' }) },
            scopeSpans: [
              {
                spans: [
                  span({ kind: SpanKind.SERVER, spanId: id, parentSpanId: caller }),
                  span({ kind: SpanKind.SERVER, spanId: Buffer.from('bbbbbbbbbbbbbbbb', 'hex'), parentSpanId: id }),
                ],
              },
            ],
          },
        ],
      };
    };

    it('gives the SERVER half a derived ID and makes it a child of the CLIENT half', () => {
      const [client, server, app] = translate(sharedBatch()) as unknown as SegmentDocument[];
      assert.equal(client!.id, 'aaaaaaaaaaaaaaaa');
      assert.equal(client!.parent_id, '9999999999999999');
      assert.notEqual(server!.id, 'aaaaaaaaaaaaaaaa');
      assert.match(server!.id, /^[0-9a-f]{16}$/);
      assert.equal(server!.parent_id, 'aaaaaaaaaaaaaaaa');
      assert.equal(app!.parent_id, 'aaaaaaaaaaaaaaaa');
    });

    it('derives the same ID whether the halves meet in one batch or the SERVER half carries zipkin.shared', () => {
      const [, paired] = translate(sharedBatch()) as unknown as SegmentDocument[];
      const alone = one(
        span({ kind: SpanKind.SERVER, spanId: Buffer.from('aaaaaaaaaaaaaaaa', 'hex'), parentSpanId: Buffer.from('9999999999999999', 'hex'), attrs: { 'zipkin.shared': true } }),
      );
      assert.equal(alone.id, paired!.id);
      assert.equal(alone.parent_id, paired!.parent_id);
    });

    it('keeps segment IDs unique and every parent link pointing at a document of the batch or outside it', () => {
      const hex8 = fc.uint8Array({ minLength: 8, maxLength: 8 }).filter((b) => b.some((x) => x !== 0));
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.record({ id: hex8, parent: hex8, kind: fc.constantFrom(SpanKind.CLIENT, SpanKind.SERVER, SpanKind.INTERNAL), shared: fc.boolean() }), {
            minLength: 1,
            maxLength: 12,
            selector: (r) => Buffer.from(r.id).toString('hex'),
          }),
          (rows) => {
          const spans: Span[] = [];
          for (const r of rows) {
            spans.push(span({ kind: r.kind, spanId: r.id, parentSpanId: r.parent }));
            // Envoy: the next hop's SERVER half reuses the CLIENT span's ID and parent.
            if (r.shared && r.kind === SpanKind.CLIENT) spans.push(span({ kind: SpanKind.SERVER, spanId: r.id, parentSpanId: r.parent }));
          }
          const docs = translate({ resourceSpans: [{ scopeSpans: [{ spans }] }] }) as unknown as SegmentDocument[];
          const docIds = docs.map((d) => d.id);
          assert.equal(new Set(docIds).size, docIds.length, 'segment ids unique');
          for (const [i, d] of docs.entries()) {
            const s = spans[i]!;
            const parent = Buffer.from(s.parentSpanId!).toString('hex');
            const own = Buffer.from(s.spanId!).toString('hex');
            if (d.id !== own) assert.equal(d.parent_id, own, 'a renamed SERVER half hangs under its CLIENT half');
            else assert.equal(d.parent_id, parent, 'other documents keep their parent');
          }
          },
        ),
      );
    });
  });

  describe('cause', () => {
    it('derives stable exception IDs (the same span gives the same document)', () => {
      const s = span({ status: { code: StatusCode.ERROR }, events: [{ name: 'exception', attributes: keyValues({ 'exception.type': 'E', 'exception.message': 'm' }) }] });
      assert.deepStrictEqual(one(s).cause, one(s).cause);
      assert.equal(one(s).cause!.exceptions[0]!.type, 'E');
    });

    it('marks exceptions of CLIENT and PRODUCER spans remote', () => {
      const ev = [{ name: 'exception', attributes: keyValues({ 'exception.type': 'E' }) }];
      assert.equal(one(span({ kind: SpanKind.CLIENT, events: ev })).cause!.exceptions[0]!.remote, true);
      assert.equal(one(span({ kind: SpanKind.SERVER, events: ev })).cause!.exceptions[0]!.remote, false);
    });

    it('turns AWS SDK "HTTP request failure" events into remote exceptions', () => {
      const d = one(
        span({
          kind: SpanKind.CLIENT,
          attrs: { 'rpc.system': 'aws-api' },
          events: [{ name: 'HTTP request failure', timeUnixNano: 1767225600_123_456_000n, attributes: keyValues({ 'http.response.status_code': 503, 'aws.http.error_message': 'slow down' }) }],
        }),
      );
      assert.equal(d.cause!.exceptions[0]!.type, 'aws.http.error.event');
      assert.equal(d.cause!.exceptions[0]!.message, '503@1767225600.123456@slow down');
      assert.equal(d.cause!.exceptions[0]!.remote, true);
    });

    it('parses Python tracebacks with chained exceptions', () => {
      const tb = [
        'Traceback (most recent call last):',
        '  File "/app/db.py", line 10, in connect',
        '    raise OSError("refused")',
        'OSError: refused',
        '',
        'During handling of the above exception, another exception occurred:',
        '',
        'Traceback (most recent call last):',
        '  File "/app/main.py", line 5, in handler',
        '    connect()',
        'RuntimeError: db down',
      ].join('\n');
      const d = one(span({ events: [{ name: 'exception', attributes: keyValues({ 'exception.type': 'RuntimeError', 'exception.message': 'db down', 'exception.stacktrace': tb }) }] }), {
        'telemetry.sdk.language': 'python',
      });
      const [top, cause] = d.cause!.exceptions;
      assert.deepStrictEqual(top!.stack, [{ path: '/app/main.py', label: 'handler', line: 5 }]);
      assert.equal(top!.cause, cause!.id);
      assert.equal(cause!.type, 'OSError');
      assert.equal(cause!.message, 'refused');
      assert.deepStrictEqual(cause!.stack, [{ path: '/app/db.py', label: 'connect', line: 10 }]);
    });
  });

  it('writes no http object for spans without HTTP attributes and keeps their network attributes as metadata', () => {
    const d = one(span({ kind: SpanKind.CLIENT, attrs: { 'net.peer.name': 'cache', 'net.peer.port': 6379 } }));
    assert.equal(d.http, undefined);
    assert.deepStrictEqual(d.metadata, { default: { 'net.peer.name': 'cache', 'net.peer.port': 6379 } });
    assert.equal(d.name, 'cache');
  });

  it('writes no aws object when the resource names another cloud, and keeps the aws.* attributes', () => {
    const d = one(span({ kind: SpanKind.CLIENT, attrs: { 'aws.operation': 'GetItem' } }), { 'cloud.provider': 'gcp' });
    assert.equal(d.aws, undefined);
    assert.equal(d.origin, undefined);
    assert.deepStrictEqual(d.metadata, { default: { 'aws.operation': 'GetItem' } });
  });

  it('maps cloud.platform to origin', () => {
    const origin = (res: Record<string, unknown>) => one(span({ kind: SpanKind.SERVER }), res).origin;
    assert.equal(origin({ 'cloud.platform': 'aws_eks' }), 'AWS::EKS::Container');
    assert.equal(origin({ 'cloud.platform': 'aws_ec2' }), 'AWS::EC2::Instance');
    assert.equal(origin({ 'cloud.platform': 'aws_ecs' }), 'AWS::ECS::Container');
    assert.equal(origin({ 'cloud.platform': 'aws_ecs', 'aws.ecs.launchtype': 'ec2' }), 'AWS::ECS::EC2');
    assert.equal(origin({ 'cloud.platform': 'aws_elastic_beanstalk' }), 'AWS::ElasticBeanstalk::Environment');
    assert.equal(origin({ 'cloud.platform': 'aws_app_runner' }), 'AWS::AppRunner::Service');
    assert.equal(origin({ 'cloud.platform': 'aws_lambda' }), undefined);
    assert.equal(origin({ 'cloud.provider': 'azure', 'cloud.platform': 'aws_eks' }), undefined);
  });
});
