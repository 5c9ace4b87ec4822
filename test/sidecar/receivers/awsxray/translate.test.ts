// Segment document → OTLP mapping, against fixtures written from the X-Ray segment document
// reference and the collector's awsxrayreceiver translator tests.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseSegmentDocument, countSegments, SegmentError, type Segment } from '../../../../sidecar/receivers/awsxray/segment.ts';
import { segmentToTraces } from '../../../../sidecar/receivers/awsxray/translate.ts';
import { SpanKind, StatusCode, type Span } from '../../../../sidecar/pdata/otlp-schema.ts';
import { attrs } from './otlp-attrs.ts';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';

const TRACE = '1-5f84c7a1-e7d1852db8c4fd35d88bf49a';
const TRACE_BYTES = Buffer.from('5f84c7a1e7d1852db8c4fd35d88bf49a', 'hex');

function translate(doc: object): { resource: Record<string, unknown>; spans: Span[] } {
  const req = segmentToTraces(parseSegmentDocument(JSON.stringify(doc)));
  const rs = req.resourceSpans!;
  assert.equal(rs.length, 1, 'one document is one ResourceSpans');
  return { resource: attrs(rs[0]!.resource?.attributes), spans: rs[0]!.scopeSpans![0]!.spans! };
}

const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'));

describe('awsxray translation', () => {
  it('maps a served request segment: IDs, name, kind, times, http attributes, resource', () => {
    const { resource, spans } = translate({
      name: 'checkout',
      id: '70de5b6f19ff9a0a',
      trace_id: TRACE,
      start_time: 1602537377.123456,
      end_time: 1602537377.5,
      user: 'alice',
      http: {
        request: { method: 'POST', url: 'http://checkout/pay', user_agent: 'curl/8', client_ip: '10.1.2.3', x_forwarded_for: true },
        response: { status: 200, content_length: 42 },
      },
      aws: { xray: { sdk: 'X-Ray for Go', sdk_version: '1.1.0' }, eks: { cluster_name: 'prod', pod: 'checkout-7d9', container_id: 'abc123' } },
      service: { version: '2.4.0' },
      origin: 'AWS::EKS::Container',
    });
    assert.deepEqual(resource, {
      'service.name': 'checkout',
      'cloud.provider': 'aws',
      'cloud.platform': 'aws_eks',
      'k8s.cluster.name': 'prod',
      'k8s.pod.name': 'checkout-7d9',
      'container.id': 'abc123',
      'telemetry.sdk.version': '1.1.0',
      'telemetry.sdk.name': 'X-Ray for Go',
      'telemetry.sdk.language': 'Go',
      'service.version': '2.4.0',
    });
    assert.equal(spans.length, 1);
    const s = spans[0]!;
    assert.deepEqual(Buffer.from(s.traceId!), TRACE_BYTES, 'bytes 0-3 are the epoch, 4-15 the rest');
    assert.equal(hex(s.spanId), '70de5b6f19ff9a0a');
    assert.equal(s.parentSpanId, undefined);
    assert.equal(s.name, 'checkout');
    assert.equal(s.kind, SpanKind.SERVER);
    assert.equal(s.startTimeUnixNano, 1602537377123456000n, 'microseconds survive (no float64 nanoseconds)');
    assert.equal(s.endTimeUnixNano, 1602537377500000000n);
    assert.equal(s.status, undefined, '2xx leaves the status unset');
    assert.deepEqual(attrs(s.attributes), {
      'enduser.id': 'alice',
      'http.method': 'POST',
      'http.client_ip': '10.1.2.3',
      'http.user_agent': 'curl/8',
      'http.url': 'http://checkout/pay',
      'aws.xray.x_forwarded_for': true,
      'http.status_code': 200n,
      'http.response_content_length': 42n,
    });
  });

  it('flattens embedded subsegments depth first with each parent the enclosing (sub)segment', () => {
    const { spans } = translate({
      name: 'api',
      id: 'a000000000000001',
      trace_id: TRACE,
      start_time: 10,
      end_time: 20,
      subsegments: [
        {
          name: 'handler',
          id: 'b000000000000002',
          start_time: 11,
          end_time: 19,
          subsegments: [{ name: 'DynamoDB', id: 'c000000000000003', start_time: 12, end_time: 13, namespace: 'aws' }],
        },
        { name: 'billing.internal', id: 'd000000000000004', start_time: 14, end_time: 15, namespace: 'remote' },
      ],
    });
    assert.deepEqual(
      spans.map((s) => [s.name, hex(s.spanId), hex(s.parentSpanId), s.kind]),
      [
        ['api', 'a000000000000001', undefined, SpanKind.SERVER],
        ['handler', 'b000000000000002', 'a000000000000001', SpanKind.INTERNAL],
        ['DynamoDB', 'c000000000000003', 'b000000000000002', SpanKind.CLIENT],
        ['billing.internal', 'd000000000000004', 'a000000000000001', SpanKind.CLIENT],
      ],
    );
    for (const s of spans) assert.deepEqual(Buffer.from(s.traceId!), TRACE_BYTES, 'embedded subsegments inherit the trace');
    assert.equal(attrs(spans[2]!.attributes)['aws.service'], 'DynamoDB');
  });

  it('maps an independent subsegment: its own trace_id and parent_id', () => {
    const { resource, spans } = translate({
      type: 'subsegment',
      name: 'orders-db',
      id: 'e000000000000005',
      parent_id: 'a000000000000001',
      trace_id: TRACE,
      start_time: 30,
      end_time: 31,
      namespace: 'remote',
      traced: true,
      sql: { url: 'jdbc:postgresql://db.example:5432/orders?ssl=true', database_type: 'PostgreSQL', sanitized_query: 'SELECT * FROM o WHERE id = ?', user: 'app' },
    });
    assert.equal(resource['service.name'], 'orders-db', 'the collector names the resource after the document');
    assert.equal(resource['cloud.provider'], 'unknown', 'no aws field: not generated by an AWS entity');
    const s = spans[0]!;
    assert.equal(hex(s.parentSpanId), 'a000000000000001');
    assert.equal(s.kind, SpanKind.CLIENT);
    assert.deepEqual(attrs(s.attributes), {
      'db.connection_string': 'jdbc:postgresql://db.example:5432',
      'db.name': 'orders',
      'db.system': 'PostgreSQL',
      'db.statement': 'SELECT * FROM o WHERE id = ?',
      'db.user': 'app',
      'aws.xray.traced': true,
    });
  });

  it('a segment continuing an upstream trace (a queue worker: parent_id, no client_ip) is the SERVER span of its service', () => {
    // aws-xray-sdk: begin_segment('invoice-worker', traceid=..., parent_id=...) in a consumer loop.
    const { spans } = translate({
      name: 'invoice-worker',
      id: 'b000000000000002',
      trace_id: TRACE,
      parent_id: 'a000000000000001',
      start_time: 40,
      end_time: 41,
      subsegments: [
        { name: 'render', id: 'b000000000000003', start_time: 40.1, end_time: 40.5 },
        { name: 'S3', id: 'b000000000000004', start_time: 40.5, end_time: 40.9, namespace: 'aws' },
      ],
    });
    assert.equal(spans[0]!.kind, SpanKind.SERVER, 'X-Ray would otherwise file it as a subsegment of the producer: off the service map');
    assert.equal(hex(spans[0]!.parentSpanId), 'a000000000000001');
    assert.equal(spans[1]!.kind, SpanKind.INTERNAL, 'embedded subsegments keep their kind by namespace');
    assert.equal(spans[2]!.kind, SpanKind.CLIENT);
  });

  it('a consumer segment with links (a batch of messages from several traces) is SERVER and keeps its links', () => {
    const { spans } = translate({
      name: 'order-consumer',
      id: 'c000000000000002',
      trace_id: TRACE,
      parent_id: 'a000000000000009',
      start_time: 50,
      end_time: 51,
      links: [{ trace_id: '1-5f84c7a1-000000000000000000000001', id: 'd000000000000001', attributes: { 'aws.sqs.message_id': 'm-1' } }],
    });
    assert.equal(spans[0]!.kind, SpanKind.SERVER);
    assert.equal(spans[0]!.links?.length, 1);
  });

  it('keeps an in_progress segment without end time, flagged aws.xray.inprogress (as the collector)', () => {
    const { spans } = translate({ name: 'LongOperation', id: '5cc4a447f5d4d696', trace_id: '1-5f187253-6a106696d56b1f4ef9eba2ed', start_time: 1595437651.680097, in_progress: true });
    assert.equal(spans[0]!.endTimeUnixNano, undefined);
    assert.equal(attrs(spans[0]!.attributes)['aws.xray.inprogress'], true);
  });

  it('turns cause exceptions into exception events and an error status; an exception-ID cause into the status message', () => {
    const { spans } = translate({
      name: 'svc',
      id: 'f000000000000006',
      trace_id: TRACE,
      start_time: 100,
      end_time: 101,
      fault: true,
      cause: {
        working_directory: '/app',
        exceptions: [{ id: '0a0b0c0d0e0f0a0b', message: 'boom', type: 'TypeError', remote: false, truncated: 2, stack: [{ path: 'app.js', line: 12, label: 'handler' }, { label: 'main' }] }],
      },
      subsegments: [{ name: 'child', id: 'f000000000000007', start_time: 100.5, end_time: 100.7, cause: '0a0b0c0d0e0f0a0b' }],
    });
    const root = spans[0]!;
    assert.deepEqual(root.status, { code: StatusCode.ERROR });
    assert.equal(root.events!.length, 1);
    const ev = root.events![0]!;
    assert.equal(ev.name, 'exception');
    assert.equal(ev.timeUnixNano, 101000000000n, 'at the span end');
    assert.deepEqual(attrs(ev.attributes), {
      'aws.xray.exception.id': '0a0b0c0d0e0f0a0b',
      'exception.message': 'boom',
      'exception.type': 'TypeError',
      'aws.xray.exception.remote': false,
      'aws.xray.exception.truncated': 2n,
      'exception.stacktrace': 'TypeError: boom\n\tat handler(app.js: 12)\n\tat main(: <unknown>)\n',
    });
    assert.deepEqual(spans[1]!.status, { code: StatusCode.ERROR, message: '0a0b0c0d0e0f0a0b' });
    assert.equal(spans[1]!.events, undefined);
  });

  it('maps status: 4xx/5xx responses and fault/error/throttle flags are errors, 3xx is not', () => {
    const statusOf = (extra: object) => translate({ name: 'n', id: '1000000000000001', trace_id: TRACE, start_time: 1, end_time: 2, ...extra }).spans[0]!.status;
    assert.deepEqual(statusOf({ http: { response: { status: 503 } } }), { code: StatusCode.ERROR });
    assert.deepEqual(statusOf({ http: { response: { status: 404 } } }), { code: StatusCode.ERROR });
    assert.equal(statusOf({ http: { response: { status: 302 } } }), undefined);
    assert.deepEqual(statusOf({ throttle: true }), { code: StatusCode.ERROR });
    assert.deepEqual(statusOf({ error: true }), { code: StatusCode.ERROR });
    assert.equal(statusOf({ fault: false }), undefined);
  });

  it('maps annotations (numbers as doubles, key list), metadata (JSON per namespace) and aws call fields', () => {
    const { spans } = translate({
      name: 'DynamoDB',
      id: '2000000000000002',
      trace_id: TRACE,
      parent_id: '1000000000000001',
      type: 'subsegment',
      namespace: 'aws',
      start_time: 1,
      end_time: 2,
      annotations: { customer: 'c-42', premium: true, items: 3, weird: { nested: 1 } },
      metadata: { default: { cart: { size: 3 } }, debug: { retried: false } },
      aws: { operation: 'PutItem', region: 'eu-west-1', request_id: 'R1', table_name: 'orders', retries: 1, account_id: '123456789012' },
      http: { response: { status: 200, content_length: '17' } },
    });
    assert.deepEqual(attrs(spans[0]!.attributes), {
      'aws.service': 'DynamoDB',
      'http.status_code': 200n,
      'http.response_content_length': '17',
      'aws.account_id': '123456789012',
      'aws.operation': 'PutItem',
      'aws.region': 'eu-west-1',
      'aws.request_id': 'R1',
      'aws.table_name': 'orders',
      'aws.xray.retries': 1n,
      customer: 'c-42',
      premium: true,
      items: 3,
      'aws.xray.annotations': ['customer', 'premium', 'items'],
      'aws.xray.metadata.default': '{"cart":{"size":3}}',
      'aws.xray.metadata.debug': '{"retried":false}',
    });
  });

  it('maps EC2, ECS, Beanstalk, CloudWatch Logs and origin to resource attributes', () => {
    const { resource } = translate({
      name: 'web',
      id: '3000000000000003',
      trace_id: TRACE,
      start_time: 1,
      origin: 'AWS::ECS::Fargate',
      resource_arn: 'arn:aws:ecs:eu-west-1:123456789012:task/abc',
      aws: {
        account_id: '123456789012',
        ec2: { instance_id: 'i-0abc', availability_zone: 'eu-west-1a', instance_size: 'm5.large', ami_id: 'ami-1' },
        ecs: { container: 'web', container_id: 'cid' },
        elastic_beanstalk: { environment_name: 'prod-env', version_label: 'v7', deployment_id: 32 },
        cloudwatch_logs: [{ log_group: 'g1', arn: 'arn:g1' }, { log_group: 'g2', arn: 'arn:g2' }],
      },
    });
    assert.deepEqual(resource, {
      'service.name': 'web',
      'cloud.provider': 'aws',
      'cloud.platform': 'aws_ecs',
      'aws.ecs.launchtype': 'fargate',
      'cloud.account.id': '123456789012',
      'aws.log.group.arns': ['arn:g1', 'arn:g2'],
      'aws.log.group.names': ['g1', 'g2'],
      'cloud.availability_zone': 'eu-west-1a',
      'host.id': 'i-0abc',
      'host.type': 'm5.large',
      'host.image.id': 'ami-1',
      'container.name': 'web',
      'container.id': 'cid',
      'service.namespace': 'prod-env',
      'service.instance.id': '32',
      'service.version': 'v7',
      'aws.xray.resource_arn': 'arn:aws:ecs:eu-west-1:123456789012:task/abc',
    });
  });

  it('keeps a content_length too large for int64 as a double instead of failing the encode', () => {
    const { spans } = translate({ name: 'n', id: '1000000000000001', trace_id: TRACE, start_time: 1, http: { response: { content_length: 1e300 } } });
    assert.equal(attrs(spans[0]!.attributes)['http.response_content_length'], 1e300);
  });

  it('rejects the whole document where the collector does: bad IDs, unknown namespace', () => {
    const base = { name: 'n', id: '1000000000000001', trace_id: TRACE, start_time: 1 };
    const rejects = (doc: object, re: RegExp) => assert.throws(() => segmentToTraces(parseSegmentDocument(JSON.stringify(doc))), (e: Error) => e instanceof SegmentError && re.test(e.message));
    rejects({ ...base, trace_id: '1-5f84c7a1-e7d1852db' }, /trace ID/);
    rejects({ ...base, trace_id: '1-00000000-000000000000000000000000' }, /trace ID/);
    rejects({ ...base, id: 'xyz' }, /segment id/);
    rejects({ ...base, parent_id: '123' }, /parent_id/);
    rejects({ ...base, subsegments: [{ name: 'c', id: '2000000000000002', start_time: 1, namespace: 'galaxy' }] }, /unexpected namespace: galaxy/);
    rejects({ ...base, start_time: -5 }, /start_time/);
  });

  it('decodes with the collector struct types: a known field of the wrong type rejects the document', () => {
    const base = { name: 'n', id: '1000000000000001', trace_id: TRACE, start_time: 1 };
    const bad: [object, RegExp][] = [
      [{ ...base, name: 42 }, /segment\.name: expected a string/],
      [{ ...base, start_time: '1' }, /start_time: expected a number/],
      [{ ...base, http: { response: { status: 'ok' } } }, /http\.response\.status/],
      [{ ...base, aws: { retries: 1.5 } }, /aws\.retries: expected an integer/],
      [{ ...base, cause: 200 }, /cause/],
      [{ ...base, metadata: { ns: 'flat' } }, /metadata\.ns: expected an object/],
      [{ ...base, subsegments: [{ name: 'c', id: '2000000000000002' }] }, /start_time" is required/],
      [{ name: 'n', id: '1000000000000001', start_time: 1 }, /trace_id" is required/],
      [[1, 2], /expected a JSON object/],
    ];
    for (const [doc, re] of bad) assert.throws(() => parseSegmentDocument(JSON.stringify(doc)), re);
    assert.throws(() => parseSegmentDocument('{"name":'), /not JSON/);
    // Unknown fields and nulls are fine.
    assert.doesNotThrow(() => parseSegmentDocument(JSON.stringify({ ...base, future_field: { x: 1 }, user: null, precursor_ids: ['a'] })));
  });

  it('property: any valid X-Ray trace ID becomes its 16 bytes; every (sub)segment becomes exactly one span', () => {
    const hexChars = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
    const id16 = hexChars(16).filter((h) => !/^0+$/.test(h));
    const leaf = fc.record({ name: fc.string({ minLength: 1, maxLength: 8 }), id: id16, start_time: fc.integer({ min: 0, max: 2e9 }) });
    const tree: fc.Arbitrary<object> = fc.letrec((tie) => ({
      node: fc.record({ name: fc.string({ minLength: 1, maxLength: 8 }), id: id16, start_time: fc.integer({ min: 0, max: 2e9 }), subsegments: fc.array(fc.oneof(leaf, tie('node')), { maxLength: 3 }) }, { requiredKeys: ['name', 'id', 'start_time'] }),
    })).node;
    fc.assert(
      fc.property(hexChars(8), hexChars(24), tree, (epoch, rest, root) => {
        fc.pre(!/^0+$/.test(epoch + rest));
        const seg: Segment = parseSegmentDocument(JSON.stringify({ ...root, trace_id: `1-${epoch}-${rest}` }));
        const req = segmentToTraces(seg);
        const data = TracesData.fromObjects(req);
        assert.equal(data.spanCount, countSegments(seg));
        for (const rs of data.toObjects().resourceSpans!) {
          for (const s of rs.scopeSpans![0]!.spans!) assert.equal(Buffer.from(s.traceId!).toString('hex'), epoch + rest);
        }
      }),
      { numRuns: 150 },
    );
  });
});
