// X-Ray segment documents through the hand-written OTLP writer: for generated documents (nested
// subsegments, unicode and empty strings, 0 / negative / huge numbers, annotations, metadata of
// any JSON, causes, links, AWS and SQL fields, optional fields absent) the bytes the receiver
// hands on are protobufjs's for the same translation, pass the wire validator, and round-trip.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';
import { parseSegmentDocument, countSegments } from '../../../../sidecar/receivers/awsxray/segment.ts';
import { segmentToTraces } from '../../../../sidecar/receivers/awsxray/translate.ts';
import { assertWritesLikeProtobufjs } from '../../pdata/writer-check.ts';

const hexOf = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`)).filter((s) => /[1-9a-f]/.test(s));
const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 24 }), fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom('', 'GET', '😀', 'x'.repeat(150)));
const number = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constantFrom(0, -0, -1, 2 ** 53 - 1, 2 ** 63, 1.5, 1e300, -1e-300));
const time = fc.double({ min: 0, max: 4e9, noNaN: true });
const json = fc.jsonValue({ maxDepth: 3 });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const fields = {
  name: fc.string({ minLength: 1, maxLength: 12 }),
  id: hexOf(16),
  start_time: time,
  end_time: time,
  in_progress: fc.boolean(),
  namespace: fc.constantFrom('aws', 'remote'),
  origin: fc.constantFrom('AWS::EKS::Container', 'AWS::EC2::Instance', 'AWS::ECS::Container', 'AWS::ElasticBeanstalk::Environment', 'custom'),
  user: text,
  resource_arn: text,
  service: fc.record({ version: text }, { requiredKeys: [] }),
  fault: fc.boolean(),
  error: fc.boolean(),
  throttle: fc.boolean(),
  http: fc.record(
    {
      request: fc.record({ method: text, url: text, user_agent: text, client_ip: fc.constantFrom('10.0.0.1', '::1', ''), x_forwarded_for: fc.boolean() }, { requiredKeys: [] }),
      response: fc.record({ status: fc.integer({ min: -1, max: 599 }), content_length: number }, { requiredKeys: [] }),
    },
    { requiredKeys: [] },
  ),
  aws: fc.record(
    {
      account_id: text,
      operation: text,
      region: text,
      request_id: text,
      table_name: text,
      retries: fc.integer(),
      eks: fc.record({ cluster_name: text, pod: text, container_id: text }, { requiredKeys: [] }),
      ec2: fc.record({ instance_id: text, availability_zone: text }, { requiredKeys: [] }),
      xray: fc.record({ sdk: text, sdk_version: text }, { requiredKeys: [] }),
    },
    { requiredKeys: [] },
  ),
  sql: fc.record({ url: text, sanitized_query: text, database_type: text, user: text }, { requiredKeys: [] }),
  cause: fc.oneof(
    hexOf(16),
    fc.record({
      exceptions: fc.array(
        fc.record({ id: hexOf(16), message: text, type: text, remote: fc.boolean(), stack: fc.array(fc.record({ path: text, line: fc.integer(), label: text }, { requiredKeys: [] }), { maxLength: 3 }) }, { requiredKeys: [] }),
        { maxLength: 2 },
      ),
    }),
  ),
  annotations: fc.dictionary(text, fc.oneof(text, number, fc.boolean()), { maxKeys: 4 }),
  metadata: fc.dictionary(text, fc.dictionary(text, json, { maxKeys: 3 }), { maxKeys: 2 }),
  links: fc.array(fc.record({ trace_id: fc.tuple(hexOf(8), hexOf(24)).map(([e, r]) => `1-${e}-${r}`), id: hexOf(16), attributes: fc.dictionary(text, fc.oneof(text, number, fc.boolean()), { maxKeys: 3 }) }, { requiredKeys: [] }), { maxLength: 2 }),
};
const required = ['name', 'id', 'start_time'] as const;

const segment: fc.Arbitrary<Record<string, unknown>> = fc.letrec<{ node: Record<string, unknown> }>((tie) => ({
  node: fc.record({ ...fields, subsegments: fc.array(tie('node'), { maxLength: 2 }) }, { requiredKeys: [...required] }),
})).node;

describe('awsxray → OTLP bytes through the writer', () => {
  it('property: the bytes handed on are protobufjs\'s for the same translation, valid, and round-trip', () => {
    fc.assert(
      fc.property(fc.tuple(hexOf(8), hexOf(24)), segment, opt(hexOf(16)), ([epoch, rest], root, parent) => {
        const doc = { ...root, trace_id: `1-${epoch}-${rest}`, ...(parent === undefined ? {} : { parent_id: parent }) };
        const seg = parseSegmentDocument(JSON.stringify(doc));
        const req = segmentToTraces(seg);
        assertWritesLikeProtobufjs(req);
        assert.equal(TracesData.fromObjects(req).spanCount, countSegments(seg));
      }),
      { numRuns: 300 },
    );
  });

  it('a drain\'s batch (resource spans of many documents in one request) encodes as before', () => {
    const now = 1732000000.123456;
    const docs = Array.from({ length: 50 }, (_, i) => ({
      name: `svc-${i % 3}`,
      id: (0x1000 + i).toString(16).padStart(16, '0'),
      trace_id: `1-674a1b2c-${(i + 1).toString(16).padStart(24, '0')}`,
      start_time: now,
      end_time: now + 0.012,
      origin: 'AWS::EKS::Container',
      http: { request: { method: 'GET', url: 'http://orders.shop/api/v1/orders/123', client_ip: '10.42.9.12' }, response: { status: 200 + i, content_length: 1843 } },
      annotations: { tenant: 'acmé', order_id: i, flag: i % 2 === 0 },
      metadata: { default: { debug: { cart: ['a', 'b', { n: null }] } } },
      subsegments: [{ name: 'DynamoDB', id: (0x2000 + i).toString(16).padStart(16, '0'), start_time: now + 0.001, end_time: now + 0.004, namespace: 'aws', aws: { operation: 'GetItem', region: 'us-east-1', table_name: 'orders' } }],
    }));
    assertWritesLikeProtobufjs({ resourceSpans: docs.flatMap((d) => segmentToTraces(parseSegmentDocument(JSON.stringify(d))).resourceSpans ?? []) });
  });
});
