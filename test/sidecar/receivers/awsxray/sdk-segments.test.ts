// The real X-Ray SDK for Node.js (aws-xray-sdk-core) sends segments to the sidecar as it would
// to the X-Ray daemon; they reach the sink as OTLP spans with the X-Ray IDs, links, names,
// attributes and status intact.
import assert from 'node:assert/strict';
import type Nock from 'nock';
import { XRayClient, GetSamplingRulesCommand } from '@aws-sdk/client-xray';
import type { Span } from '../../../../sidecar/pdata/otlp-schema.ts';
import { SpanKind, StatusCode } from '../../../../sidecar/pdata/otlp-schema.ts';
import { freeSharedPort, startXRay, xrayConfig, type Running } from './service.ts';
import { loadXRaySdk, type LoadedSdk } from './xray-sdk.ts';
import { attrs } from './otlp-attrs.ts';

// nock patches node:http for the whole process as soon as it is evaluated; imported lazily and
// restored after this file, it cannot disturb files that run before or after (gRPC, gzip bodies).
let nock: typeof Nock;
async function nockOn(): Promise<void> {
  nock = (await import('nock')).default;
  if (!nock.isActive()) nock.activate();
}

/** The X-Ray trace ID as bytes, computed here independently of the receiver's parser. */
function xrayBytes(traceId: string): string {
  assert.match(traceId, /^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  return traceId.slice(2, 10) + traceId.slice(11);
}

const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'));

interface Got {
  span: Span;
  resource: Record<string, unknown>;
  attrs: Record<string, unknown>;
}

function byName(run: Running): Map<string, Got> {
  return new Map(run.sink.spans().map(({ span, resource }) => [span.name!, { span, resource: attrs(resource?.attributes), attrs: attrs(span.attributes) }]));
}

describe('awsxray receiver with aws-xray-sdk-core', () => {
  let run: Running;
  let sdk: LoadedSdk;

  before(async () => {
    await nockOn();
    const port = await freeSharedPort();
    run = await startXRay(xrayConfig({ port }));
    sdk = loadXRaySdk(port);
  });

  after(async () => {
    sdk.unload();
    nock.cleanAll();
    nock.restore();
    await run.svc.shutdown();
  });

  beforeEach(() => {
    run.sink.batches.length = 0;
  });

  it('turns a segment with subsegments, an error, annotations, metadata and an AWS SDK call into linked spans', async () => {
    const { AWSXRay } = sdk;
    const seg = new AWSXRay.Segment('checkout-svc');
    const incoming = new AWSXRay.middleware.IncomingRequestData({
      method: 'POST',
      url: '/pay',
      headers: { host: 'checkout.shop', 'user-agent': 'test-agent/1.0' },
      connection: { remoteAddress: '10.0.0.7' },
    } as never);
    seg.addIncomingRequestData(incoming);
    seg.setUser('alice');
    seg.addAnnotation('customer', 'c-42');
    seg.addAnnotation('items', 3);
    seg.addMetadata('cart', { size: 3, currency: 'EUR' }, 'shop');

    const db = seg.addNewSubsegment('orders-db');
    db.addAnnotation('table', 'orders');
    const price = db.addNewSubsegment('price');
    const failure = new Error('price service down');
    price.close(failure);
    db.close();

    // An AWS SDK v3 call, instrumented by the X-Ray SDK; X-Ray's API is mocked.
    nock('https://xray.eu-west-1.amazonaws.com').post('/GetSamplingRules').reply(200, { SamplingRuleRecords: [] }, { 'x-amzn-requestid': 'req-0001' });
    const client = AWSXRay.captureAWSv3Client(
      new XRayClient({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, maxAttempts: 1 }),
      seg,
    );
    await client.send(new GetSamplingRulesCommand({}));

    incoming.close({ statusCode: 500 } as never);
    seg.close(failure);
    await run.sink.waitForSpans(4);

    const spans = byName(run);
    assert.deepEqual([...spans.keys()].sort(), ['XRay', 'checkout-svc', 'orders-db', 'price']);
    const root = spans.get('checkout-svc')!;
    const trace = xrayBytes(seg.trace_id);
    for (const s of spans.values()) assert.equal(hex(s.span.traceId), trace, `${s.span.name} is in the X-Ray trace`);

    // Links: each subsegment's parent is the (sub)segment it was opened on.
    assert.equal(hex(root.span.spanId), seg.id);
    assert.equal(root.span.parentSpanId, undefined);
    assert.equal(hex(spans.get('orders-db')!.span.parentSpanId), seg.id);
    assert.equal(hex(spans.get('price')!.span.parentSpanId), db.id);
    assert.equal(hex(spans.get('XRay')!.span.parentSpanId), seg.id);

    // The segment: a served request that failed.
    assert.equal(root.span.kind, SpanKind.SERVER);
    assert.equal(root.span.status?.code, StatusCode.ERROR);
    assert.equal(root.resource['service.name'], 'checkout-svc');
    assert.equal(root.resource['telemetry.sdk.name'], 'X-Ray for Node.js');
    assert.equal(root.resource['telemetry.sdk.language'], 'Node.js');
    assert.equal(root.resource['cloud.provider'], 'aws');
    assert.equal(root.attrs['enduser.id'], 'alice');
    assert.equal(root.attrs['http.method'], 'POST');
    assert.equal(root.attrs['http.url'], 'http://checkout.shop/pay');
    assert.equal(root.attrs['http.client_ip'], '10.0.0.7');
    assert.equal(root.attrs['http.user_agent'], 'test-agent/1.0');
    assert.equal(root.attrs['http.status_code'], 500n);
    assert.equal(root.attrs.customer, 'c-42');
    assert.equal(root.attrs.items, 3);
    assert.deepEqual(root.attrs['aws.xray.annotations'], ['customer', 'items']);
    assert.deepEqual(JSON.parse(root.attrs['aws.xray.metadata.shop'] as string), { cart: { size: 3, currency: 'EUR' } });
    assert.ok(BigInt(root.span.endTimeUnixNano!) >= BigInt(root.span.startTimeUnixNano!));

    // The subsegment that threw: an exception event with the message, type and stack.
    const p = spans.get('price')!;
    assert.equal(p.span.kind, SpanKind.INTERNAL);
    assert.equal(p.span.status?.code, StatusCode.ERROR);
    const ev = p.span.events![0]!;
    assert.equal(ev.name, 'exception');
    const evAttrs = attrs(ev.attributes);
    assert.equal(evAttrs['exception.message'], 'price service down');
    assert.equal(evAttrs['exception.type'], 'Error');
    assert.match(evAttrs['exception.stacktrace'] as string, /^Error: price service down\n\tat .+/);
    assert.equal(spans.get('orders-db')!.attrs.table, 'orders');
    assert.equal(spans.get('orders-db')!.span.status, undefined);

    // The AWS SDK call: namespace aws → a CLIENT span with the call's fields.
    const call = spans.get('XRay')!;
    assert.equal(call.span.kind, SpanKind.CLIENT);
    assert.equal(call.attrs['aws.service'], 'XRay');
    assert.equal(call.attrs['aws.operation'], 'GetSamplingRules');
    assert.equal(call.attrs['aws.region'], 'eu-west-1');
    assert.equal(call.attrs['aws.request_id'], 'req-0001');
    assert.equal(call.attrs['http.status_code'], 200n);
    assert.equal(call.span.status, undefined);
  });

  it('keeps the upstream parent of a segment that continues a trace (X-Amzn-Trace-Id Root and Parent)', async () => {
    const { AWSXRay } = sdk;
    const root = '1-67a1b2c3-0123456789abcdef01234567';
    const seg = new AWSXRay.Segment('inventory', root, '53995c3f42cd8ad8');
    seg.close();
    await run.sink.waitForSpans(1);
    const { span } = run.sink.spans()[0]!;
    assert.equal(hex(span.traceId), '67a1b2c30123456789abcdef01234567');
    assert.equal(hex(span.parentSpanId), '53995c3f42cd8ad8');
    // The SDK made a segment: the entry of the inventory service, which X-Ray keeps on the service
    // map only as a SERVER span (INTERNAL would file it as a subsegment of the caller).
    assert.equal(span.kind, SpanKind.SERVER);
  });

  it('accepts subsegments streamed on their own (type subsegment, parent_id, trace_id)', async () => {
    const { AWSXRay } = sdk;
    // Threshold 0: a closed subsegment is sent at once while its segment is still open.
    AWSXRay.setStreamingThreshold(0);
    const seg = new AWSXRay.Segment('streaming-svc');
    const a = seg.addNewSubsegment('step-a');
    const b = seg.addNewSubsegment('step-b');
    const c = a.addNewSubsegment('step-c');
    c.close();
    a.close();
    b.close();
    seg.close();
    await run.sink.waitForSpans(4);
    AWSXRay.setStreamingThreshold(100);

    const spans = byName(run);
    // One ResourceSpans per segment document (documents of one event-loop turn share a batch).
    const documents = run.sink.batches.reduce((n, b) => n + (b.toObjects().resourceSpans ?? []).length, 0);
    assert.equal(documents >= 3, true, 'step-c and step-a arrive as their own documents');
    const trace = xrayBytes(seg.trace_id);
    for (const s of spans.values()) assert.equal(hex(s.span.traceId), trace);
    assert.equal(hex(spans.get('step-c')!.span.parentSpanId), a.id);
    assert.equal(hex(spans.get('step-a')!.span.parentSpanId), seg.id);
    assert.equal(hex(spans.get('step-b')!.span.parentSpanId), seg.id);
    assert.equal(spans.get('streaming-svc')!.span.parentSpanId, undefined);
    // The collector names an independent subsegment's resource after the subsegment itself.
    assert.equal(spans.get('step-c')!.resource['service.name'], 'step-c');
    assert.equal(spans.get('step-b')!.resource['service.name'], 'streaming-svc');
  });
});
