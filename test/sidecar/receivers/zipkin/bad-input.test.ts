// Bad input never takes the receiver down and always gets a clear, correctly coded answer.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { post, startZipkin, zipkinConfig, type Running } from './service.ts';

const GOOD = JSON.stringify([{ traceId: '463ac35c9f6413ad48485a3953bb6124', id: 'a2fb4a1d1a96d312', name: 'get', timestamp: 1732000000000000, duration: 10, localEndpoint: { serviceName: 'web' } }]);
const span = (fields: Record<string, unknown>) => JSON.stringify([{ traceId: '463ac35c9f6413ad', id: 'a2fb4a1d1a96d312', ...fields }]);

describe('zipkin receiver bad input', () => {
  let run: Running;
  before(async () => {
    run = await startZipkin(zipkinConfig('zipkin: { endpoint: 127.0.0.1:0, max_request_body_size: 4096 }'));
  });
  after(() => run.svc.shutdown());

  const cases: [name: string, body: string, message: RegExp][] = [
    ['malformed JSON', '[{"traceId": ', /malformed JSON/],
    ['a JSON object instead of a list', GOOD.slice(1, -1), /body: expected a JSON array of Zipkin v2 spans, got object/],
    ['a span that is not an object', '[42]', /spans\[0\]: expected a span object/],
    ['a trace ID that is not hex', span({ traceId: 'xyz123' }), /spans\[0\]\.traceId: expected 16 or 32 hex characters, got "xyz123"/],
    ['a trace ID that is too long', span({ traceId: '463ac35c9f6413ad48485a3953bb61240' }), /spans\[0\]\.traceId/],
    ['a missing trace ID', JSON.stringify([{ id: 'a2fb4a1d1a96d312' }]), /spans\[0\]\.traceId/],
    ['a zero trace ID', span({ traceId: '0000000000000000' }), /spans\[0\]\.traceId: expected a non-zero trace ID/],
    ['a span ID that is not hex', span({ id: 'a2fb4a1d1a96d31g' }), /spans\[0\]\.id: expected 16 hex characters/],
    ['a numeric span ID', span({ id: 1234 }), /spans\[0\]\.id: expected a string, got number/],
    ['a parent ID that is not hex', span({ parentId: 'nothex' }), /spans\[0\]\.parentId: expected 16 hex characters/],
    ['a timestamp of the wrong type', span({ timestamp: 'yesterday' }), /spans\[0\]\.timestamp: expected a non-negative number of microseconds, got "yesterday"/],
    ['a negative duration', span({ duration: -5 }), /spans\[0\]\.duration/],
    ['tags that are a list', span({ tags: ['a'] }), /spans\[0\]\.tags: expected an object of string values, got an array/],
    ['a tag value that is a number', span({ tags: { 'http.status_code': 200 } }), /spans\[0\]\.tags\["http\.status_code"\]: expected a string, got number/],
    ['annotations that are an object', span({ annotations: {} }), /spans\[0\]\.annotations: expected an array/],
    ['an annotation without timestamp', span({ annotations: [{ value: 'ws' }] }), /spans\[0\]\.annotations\[0\]\.timestamp/],
    ['a bad IPv4 address', span({ localEndpoint: { serviceName: 'a', ipv4: '10.0.0.300' } }), /spans\[0\]\.localEndpoint\.ipv4: expected an IPv4 address/],
    ['a port out of range', span({ remoteEndpoint: { port: 70000 } }), /spans\[0\]\.remoteEndpoint\.port/],
    ['a kind that is not a string', span({ kind: 2 }), /spans\[0\]\.kind: expected a string/],
    ['shared that is not a boolean', span({ shared: 'yes' }), /spans\[0\]\.shared: expected true or false/],
  ];
  for (const [name, body, message] of cases) {
    it(`answers ${name} with 400 and a message`, async () => {
      const res = await post(run.url, body);
      assert.equal(res.status, 400, res.text);
      assert.match(res.text, message);
    });
  }

  it('refuses the whole request when one span is bad, passing nothing on', async () => {
    const before = run.sink.spanCount();
    const res = await post(run.url, `[${GOOD.slice(1, -1)},{"traceId":"zz","id":"a2fb4a1d1a96d312"}]`);
    assert.equal(res.status, 400);
    assert.match(res.text, /spans\[1\]\.traceId/);
    assert.equal(run.sink.spanCount(), before);
  });

  it('answers malformed proto3 with 400', async () => {
    const res = await post(run.url, Buffer.from([0x0a, 0x05, 0x0a, 0x10]), { 'Content-Type': 'application/x-protobuf' });
    assert.equal(res.status, 400);
    assert.match(res.text, /malformed Zipkin proto3 ListOfSpans/);
  });

  it('answers a proto3 trace ID of the wrong length with 400', async () => {
    // ListOfSpans{ spans: Span{ trace_id: 3 bytes, id: 8 bytes } }
    const spanBytes = Buffer.concat([Buffer.from([0x0a, 0x03, 1, 2, 3, 0x1a, 0x08]), Buffer.alloc(8, 1)]);
    const res = await post(run.url, Buffer.concat([Buffer.from([0x0a, spanBytes.length]), spanBytes]), { 'Content-Type': 'application/x-protobuf' });
    assert.equal(res.status, 400);
    assert.match(res.text, /spans\[0\]\.trace_id: expected 8 or 16 bytes, got 3/);
  });

  it('answers a body over max_request_body_size with 413', async () => {
    const res = await post(run.url, `[${Array.from({ length: 40 }, () => GOOD.slice(1, -1)).join(',')}]`);
    assert.equal(res.status, 413);
    assert.match(res.text, /exceeds the limit of 4096 bytes/);
  });

  it('stops decompressing a gzip bomb at the limit and answers 413', async () => {
    const bomb = gzipSync(Buffer.alloc(1024 * 1024, 0x20));
    assert.ok(bomb.length < 4096);
    const res = await post(run.url, bomb, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
    assert.equal(res.status, 413);
    assert.match(res.text, /decompressed request body exceeds the limit/);
  });

  it('answers a body that is not gzip under Content-Encoding: gzip with 400', async () => {
    const res = await post(run.url, GOOD, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
    assert.equal(res.status, 400);
    assert.match(res.text, /cannot decompress gzip body/);
  });

  it('answers an unsupported content type with 415', async () => {
    const res = await post(run.url, GOOD, { 'Content-Type': 'application/x-thrift' });
    assert.equal(res.status, 415);
    assert.match(res.text, /unsupported Content-Type "application\/x-thrift"/);
  });

  it('answers Zipkin v1 with 415 naming the v2 endpoint', async () => {
    const res = await post(run.url.replace('/api/v2/', '/api/v1/'), '[]');
    assert.equal(res.status, 415);
    assert.match(res.text, /Zipkin v1 .* not supported.*\/api\/v2\/spans/);
  });

  it('answers other paths with 404 and GET with 405', async () => {
    const notFound = await post(run.url.replace('/api/v2/spans', '/v1/traces'), GOOD);
    assert.equal(notFound.status, 404);
    const get = await post(run.url, '', {}, 'GET');
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'POST');
  });

  it('keeps serving after all of the above', async () => {
    const before = run.sink.spanCount();
    const res = await post(run.url, GOOD);
    assert.equal(res.status, 202);
    assert.equal(run.sink.spanCount(), before + 1);
  });
});

describe('zipkin receiver refusals', () => {
  it('answers 503 with Retry-After when the pipeline refuses, and counts refused spans', async () => {
    const run = await startZipkin(zipkinConfig(undefined, 'refuse'));
    try {
      const res = await post(run.url, GOOD);
      assert.equal(res.status, 503);
      assert.equal(res.headers['retry-after'], '2');
      assert.match(res.text, /sink refuses/);
      assert.match(run.svc.metrics.render(), /otelcol_receiver_refused_spans_total\{[^}]*receiver="zipkin"[^}]*\} 1/);
    } finally {
      await run.svc.shutdown();
    }
  });
});
