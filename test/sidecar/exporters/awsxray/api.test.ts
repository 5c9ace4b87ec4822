// transport api against the X-Ray API mocked with nock (PutTraceSegments is
// POST https://xray.<region>.amazonaws.com/TraceSegments, restJson1), credentials from the
// environment as the default chain reads them.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import nock from 'nock';
import type { SegmentDocument } from '../../../../sidecar/exporters/awsxray/document.ts';
import { classifySdkError, isRetryableSegmentError, sdkRegion } from '../../../../sidecar/exporters/awsxray/api-transport.ts';
import { PermanentError, RetryableError } from '../../../../sidecar/component/errors.ts';
import { startExporter, traceRequest, tracesData, type Harness } from './harness.ts';

const XRAY = 'https://xray.eu-west-1.amazonaws.com';

interface Call {
  headers: Record<string, string>;
  docs: SegmentDocument[];
}

/** Records each PutTraceSegments call and answers from `answers` (last one repeats). */
function mockXRay(answers: ((docs: SegmentDocument[]) => [number, unknown, Record<string, string>?])[], base = XRAY): Call[] {
  const calls: Call[] = [];
  nock(base)
    .persist()
    .post('/TraceSegments')
    // nock 15 hands the reply function the request as a fetch Request.
    .reply(async (req: Request) => {
      const body = (await req.json()) as { TraceSegmentDocuments?: string[] };
      const docs = (body.TraceSegmentDocuments ?? []).map((d) => JSON.parse(d) as SegmentDocument);
      calls.push({ headers: Object.fromEntries(req.headers.entries()), docs });
      const answer = answers[Math.min(calls.length - 1, answers.length - 1)]!;
      const [status, payload, headers] = answer(docs);
      return [status, JSON.stringify(payload), { 'content-type': 'application/json', ...headers }];
    });
  return calls;
}

const ok = (): [number, unknown] => [200, { UnprocessedTraceSegments: [] }];

describe('awsxray exporter: transport api (PutTraceSegments, nock)', () => {
  const saved: Record<string, string | undefined> = {};
  // Static credentials for the default chain; no profile, region or config file from the machine.
  const ENV: Record<string, string | undefined> = {
    AWS_ACCESS_KEY_ID: 'AKIDTRACEBRIDGE',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_CONFIG_FILE: '/nonexistent/tracebridge-test/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/tracebridge-test/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  let run: Harness | undefined;

  before(() => {
    for (const [k, v] of Object.entries(ENV)) {
      saved[k] = process.env[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    // nock starts inactive (test/support/root-hooks.ts): on for this file only.
    if (!nock.isActive()) nock.activate();
    nock.disableNetConnect();
  });

  after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    nock.cleanAll();
    nock.enableNetConnect();
    if (nock.isActive()) nock.restore();
  });

  afterEach(async () => {
    nock.cleanAll();
    await run?.exporter.shutdown();
    run = undefined;
  });

  it('signs PutTraceSegments with SigV4 for region and service xray, sends its User-Agent and the documents', async () => {
    const calls = mockXRay([ok]);
    run = await startExporter({ region: 'eu-west-1' });
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(3)));
    assert.equal(calls.length, 1);
    const h = calls[0]!.headers;
    assert.match(String(h.authorization), /^AWS4-HMAC-SHA256 Credential=AKIDTRACEBRIDGE\/\d{8}\/eu-west-1\/xray\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/);
    assert.match(String(h['user-agent']), /^tracebridge\/\d+\.\d+\.\d+ \(awsxray\)/);
    assert.match(String(h['x-amz-user-agent'] ?? h['user-agent']), /tracebridge\//);
    const docs = calls[0]!.docs;
    assert.equal(docs.length, 3);
    assert.equal(docs[0]!.type, undefined);
    assert.equal(docs[1]!.type, 'subsegment');
    assert.equal(docs[1]!.parent_id, docs[0]!.id);
    assert.ok(docs.every((d) => d.trace_id === docs[0]!.trace_id && /^1-[0-9a-f]{8}-[0-9a-f]{24}$/.test(d.trace_id)));
    assert.equal(run.counter('otelcol_exporter_sent_spans_total'), 3);
    assert.equal(run.counter('tracebridge_exporter_awsxray_invalid_trace_ids_total'), 0);
  });

  it('sends at most 50 documents per call', async () => {
    const calls = mockXRay([ok]);
    run = await startExporter({ region: 'eu-west-1' });
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(120)));
    assert.deepStrictEqual(calls.map((c) => c.docs.length), [50, 50, 20]);
    assert.equal(new Set(calls.flatMap((c) => c.docs.map((d) => d.id))).size, 120);
    assert.equal(run.counter('otelcol_exporter_sent_spans_total'), 120);
  });

  it('retries a throttled call (HTTP 429 ThrottledException) and then succeeds', async () => {
    const calls = mockXRay([() => [429, { message: 'Rate exceeded' }, { 'x-amzn-errortype': 'ThrottledException' }], ok]);
    run = await startExporter({ region: 'eu-west-1' });
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(2)));
    assert.equal(calls.length, 2);
    assert.deepStrictEqual(calls[1]!.docs, calls[0]!.docs);
    assert.equal(run.counter('tracebridge_exporter_send_retries_total'), 1);
    assert.equal(run.counter('otelcol_exporter_sent_spans_total'), 2);
    assert.equal(run.counter('otelcol_exporter_send_failed_spans_total'), 0);
  });

  it('retries 5xx answers, and resends only the calls not yet accepted', async () => {
    const calls = mockXRay([ok, () => [503, { message: 'unavailable' }, { 'x-amzn-errortype': 'ServiceUnavailableException' }], ok]);
    run = await startExporter({ region: 'eu-west-1' });
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(70)));
    // 50 accepted, 20 refused with 503, the same 20 again.
    assert.deepStrictEqual(calls.map((c) => c.docs.length), [50, 20, 20]);
    assert.deepStrictEqual(calls[2]!.docs, calls[1]!.docs);
    assert.equal(run.counter('otelcol_exporter_sent_spans_total'), 70);
  });

  it('retries UnprocessedTraceSegments with retryable codes and counts the others as failed', async () => {
    const calls = mockXRay([
      (docs) => [
        200,
        {
          UnprocessedTraceSegments: [
            { Id: docs[1]!.id, ErrorCode: 'ThrottledException', Message: 'slow down' },
            { Id: docs[2]!.id, ErrorCode: 'InvalidTraceId', Message: 'Invalid segment. ErrorCode: InvalidTraceId' },
          ],
        },
      ],
      ok,
    ]);
    run = await startExporter({ region: 'eu-west-1' });
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(4)));
    assert.equal(calls.length, 2);
    assert.deepStrictEqual(calls[1]!.docs.map((d) => d.id), [calls[0]!.docs[1]!.id]);
    assert.equal(run.counter('otelcol_exporter_sent_spans_total'), 3);
    assert.equal(run.counter('otelcol_exporter_send_failed_spans_total'), 1);
    assert.equal(run.counter('tracebridge_exporter_awsxray_unprocessed_segments_total', { code: 'ThrottledException', retried: 'true' }), 1);
    assert.equal(run.counter('tracebridge_exporter_awsxray_unprocessed_segments_total', { code: 'InvalidTraceId', retried: 'false' }), 1);
  });

  it('does not retry a 4xx refusal (bad request, access denied): the spans fail for good', async () => {
    const calls = mockXRay([() => [403, { message: 'not authorized' }, { 'x-amzn-errortype': 'AccessDeniedException' }]]);
    run = await startExporter({ region: 'eu-west-1' });
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(2)));
    assert.equal(calls.length, 1);
    assert.equal(run.counter('otelcol_exporter_send_failed_spans_total'), 2);
    assert.equal(run.counter('otelcol_exporter_sent_spans_total'), 0);
  });

  it('trims a document over 64 kB, metadata first, and counts it', async () => {
    const calls = mockXRay([ok]);
    run = await startExporter({ region: 'eu-west-1', indexed_attributes: ['tenant'] });
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(1, { attrs: { blob: 'x'.repeat(70_000), tenant: 'acme' } })));
    const doc = calls[0]!.docs[0]!;
    assert.equal(doc.metadata, undefined);
    assert.deepStrictEqual(doc.annotations, { tenant: 'acme' });
    assert.ok(JSON.stringify(doc).length <= 64_000);
    assert.equal(run.counter('tracebridge_exporter_awsxray_documents_trimmed_total'), 1);
    assert.equal(run.counter('otelcol_exporter_sent_spans_total'), 1);
  });

  it('counts and warns once about trace IDs legacy X-Ray rejects, and still sends them', async () => {
    const calls = mockXRay([ok]);
    run = await startExporter({ region: 'eu-west-1' });
    const random = '4bf92f3577b34da6a3ce929d0e0e4736';
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(2, { traceHex: random })));
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(3, { traceHex: random })));
    assert.equal(calls.length, 2);
    assert.equal(calls[0]!.docs[0]!.trace_id, '1-4bf92f35-77b34da6a3ce929d0e0e4736');
    assert.equal(run.counter('tracebridge_exporter_awsxray_invalid_trace_ids_total'), 5);
    const warnings = run.logs.filter((l) => String(l.msg).includes('legacy X-Ray ingestion rejects'));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.example_trace_id, '1-4bf92f35-77b34da6a3ce929d0e0e4736');
    assert.equal(warnings[0]!.reason, 'too-old');
    // A clean batch ends the episode; the next bad one warns again.
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(1)));
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(1, { traceHex: random })));
    assert.equal(run.logs.filter((l) => String(l.msg).includes('legacy X-Ray ingestion rejects')).length, 2);
  });

  it('uses the endpoint override (still signed for the region and xray)', async () => {
    const calls = mockXRay([ok], 'https://xray-vpce.example.test');
    run = await startExporter({ region: 'eu-west-1', endpoint: 'https://xray-vpce.example.test' });
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(1)));
    assert.equal(calls.length, 1);
    assert.match(String(calls[0]!.headers.authorization), /\/eu-west-1\/xray\/aws4_request/);
  });

  it('assumes role_arn through STS and signs with the temporary credentials', async () => {
    let assumed = '';
    nock('https://sts.eu-west-1.amazonaws.com')
      .post('/')
      .reply(async (req: Request) => {
        assumed = await req.text();
        return [
          200,
          `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIATEMPORARY</AccessKeyId><SecretAccessKey>temp-secret</SecretAccessKey><SessionToken>temp-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::210987654321:assumed-role/xray-writer/tracebridge</Arn><AssumedRoleId>AROAEXAMPLE:tracebridge</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></AssumeRoleResponse>`,
          { 'content-type': 'text/xml' },
        ];
      });
    const calls = mockXRay([ok]);
    run = await startExporter({ region: 'eu-west-1', role_arn: 'arn:aws:iam::210987654321:role/xray-writer' });
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(1)));
    assert.match(decodeURIComponent(assumed), /RoleArn=arn:aws:iam::210987654321:role\/xray-writer/);
    assert.match(String(calls[0]!.headers.authorization), /Credential=ASIATEMPORARY\//);
    assert.equal(calls[0]!.headers['x-amz-security-token'], 'temp-token');
  });

  it('sends X-Ray telemetry records (telemetry.enabled) with the counts of the period', async () => {
    mockXRay([(docs) => [200, { UnprocessedTraceSegments: [{ Id: docs[0]!.id, ErrorCode: 'InvalidTraceId' }] }]]);
    const bodies: Record<string, unknown>[] = [];
    nock(XRAY)
      .persist()
      .post('/TelemetryRecords')
      .reply(async (req: Request) => {
        bodies.push((await req.json()) as Record<string, unknown>);
        return [200, '{}', { 'content-type': 'application/json' }];
      });
    run = await startExporter(
      { region: 'eu-west-1', resource_arn: 'arn:aws:eks:eu-west-1:123456789012:cluster/prod', telemetry: { enabled: true, include_metadata: true, hostname: 'node-1' } },
      { awsInstanceId: 'i-0abc', telemetryIntervalMs: 20 },
    );
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(3)));
    // A record covers one interval; the call may straddle two of them, so sum until all is reported.
    const records = () => bodies.flatMap((b) => b.TelemetryRecords as Record<string, number>[]);
    const sum = (k: string) => records().reduce((n, r) => n + (r[k] ?? 0), 0);
    for (let i = 0; i < 200 && sum('SegmentsSentCount') < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(bodies[0]!.Hostname, 'node-1');
    assert.equal(bodies[0]!.EC2InstanceId, 'i-0abc');
    assert.equal(bodies[0]!.ResourceARN, 'arn:aws:eks:eu-west-1:123456789012:cluster/prod');
    assert.equal(sum('SegmentsReceivedCount'), 3);
    assert.equal(sum('SegmentsSentCount'), 2);
    assert.equal(sum('SegmentsRejectedCount'), 1);
    assert.equal(typeof records()[0]!.Timestamp, 'number');
  });

  // Any spelling the config takes as an http:// URL; Node's Agent would silently go direct for one
  // whose text does not start with "http://" (an upper-case scheme).
  for (const scheme of ['http', 'HTTP']) {
    it(`goes through proxy_address (HTTPS CONNECT to the X-Ray endpoint): ${scheme}://`, async () => {
      const targets: string[] = [];
      const proxy = createServer();
      proxy.on('connect', (req: IncomingMessage, socket: Duplex) => {
        targets.push(req.url ?? '');
        socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      // nock would answer before the agent's proxy logic runs: this test talks to a real local proxy.
      nock.restore();
      try {
        run = await startExporter({ region: 'eu-west-1', proxy_address: `${scheme}://127.0.0.1:${(proxy.address() as AddressInfo).port}`, retry_on_failure: { enabled: false } });
        await assert.rejects(run.exporter.traces.consumeTraces(tracesData(traceRequest(1))));
        assert.deepStrictEqual(targets, ['xray.eu-west-1.amazonaws.com:443']);
        assert.equal(run.counter('otelcol_exporter_send_failed_spans_total'), 1);
      } finally {
        nock.activate();
        proxy.close();
      }
    });
  }

  // The injector's env gives AWS_REGION; with it (or `region`) the SDK's client is made by the first export.
  it('takes AWS_REGION of the environment when the config names no region, and signs for it', async () => {
    const calls = mockXRay([ok], 'https://xray.ap-southeast-2.amazonaws.com');
    run = await startExporter({}, { awsRegion: 'ap-southeast-2' });
    await run.exporter.traces.consumeTraces(tracesData(traceRequest(2)));
    assert.equal(calls.length, 1);
    assert.match(String(calls[0]!.headers.authorization), /Credential=AKIDTRACEBRIDGE\/\d{8}\/ap-southeast-2\/xray\/aws4_request/);
    assert.equal(run.counter('otelcol_exporter_sent_spans_total'), 2);
  });

  // Node refuses a malformed proxy when the client's Agent is made, which is now the first export.
  it('fails at start on a malformed HTTPS_PROXY, as it did when the client was made at start', async () => {
    await assert.rejects(startExporter({ region: 'eu-west-1' }, { proxyEnv: { HTTPS_PROXY: 'http://[::1:3128' } }), /exporter awsxray: Invalid proxy URL: http:\/\/\[::1:3128 \(proxy_address, else HTTPS_PROXY/);
    // Node reads the lower-case name first, and refuses a line break in either.
    await assert.rejects(startExporter({ region: 'eu-west-1' }, { proxyEnv: { https_proxy: 'http://[::1:3128', HTTPS_PROXY: 'http://proxy.internal:3128' } }), /Invalid proxy URL/);
    await assert.rejects(startExporter({ region: 'eu-west-1' }, { proxyEnv: { HTTPS_PROXY: 'http://proxy.internal:3128\r\nX-Injected: 1' } }), /proxy/i);
    // The proxy's credentials stay out of the message (it is logged), with or without a region
    // known at start (without one, the client is made at start).
    for (const raw of [{ region: 'eu-west-1' }, {}]) {
      await assert.rejects(startExporter(raw, { proxyEnv: { HTTPS_PROXY: 'http://svc-xray:s3cr3t@[::1:3128' } }), (err: Error) => {
        assert.match(err.message, /Invalid proxy URL: http:\/\/\*\*\*@\[::1:3128/);
        assert.doesNotMatch(`${err.message} ${String(err.stack)} ${String(err.cause)}`, /s3cr3t|svc-xray/);
        return true;
      });
    }
    // Well-formed, the start goes on (nothing is sent through it here).
    run = await startExporter({ region: 'eu-west-1' }, { proxyEnv: { HTTPS_PROXY: 'http://proxy.internal:3128', NO_PROXY: '169.254.169.254' } });
  });

  // The client checks its region when it first resolves it, which is now the first export.
  it('fails at start on a region that is not one hostname label, from the config or AWS_REGION, as the SDK would', async () => {
    await assert.rejects(startExporter({ region: 'eu-west-1 ' }), /exporter awsxray: no AWS region: set region \(or AWS_REGION\): Region not accepted: region="eu-west-1 " is not a valid hostname component/);
    await assert.rejects(startExporter({}, { awsRegion: 'us east 1' }), /Region not accepted: region="us east 1"/);
    // A FIPS form names its plain region, as the SDK resolves it.
    assert.equal(sdkRegion('us-gov-west-1-fips', 'awsxray'), 'us-gov-west-1');
    assert.equal(sdkRegion('fips-us-east-1', 'awsxray'), 'us-east-1');
  });

  it('fails at start without a region', async () => {
    await assert.rejects(startExporter({}), /no AWS region/);
  });

  it('classifies SDK errors and unprocessed error codes', () => {
    const err = (name: string, status?: number) => Object.assign(new Error(name), { name, $metadata: status === undefined ? {} : { httpStatusCode: status } });
    assert.ok(classifySdkError(err('ThrottledException', 429)) instanceof RetryableError);
    assert.equal((classifySdkError(err('ThrottledException', 429)) as RetryableError).throttle, true);
    assert.ok(classifySdkError(err('InternalFailure', 500)) instanceof RetryableError);
    assert.ok(classifySdkError(err('TimeoutError')) instanceof RetryableError);
    assert.ok(classifySdkError(err('ExpiredTokenException', 400)) instanceof RetryableError);
    assert.ok(classifySdkError(err('InvalidRequestException', 400)) instanceof PermanentError);
    assert.ok(isRetryableSegmentError('ThrottledException'));
    assert.ok(isRetryableSegmentError('InternalFailure'));
    assert.ok(isRetryableSegmentError('503'));
    assert.ok(!isRetryableSegmentError('InvalidTraceId'));
    assert.ok(!isRetryableSegmentError(undefined));
  });
});
