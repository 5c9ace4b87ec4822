// The otlp exporter's gRPC client (node:http2) against real servers: grpc-js, gRPC C-core (python3
// grpcio) and plain node:http2 servers that misbehave on purpose (HTML error pages, GOAWAY, a
// one-stream limit, no answer at all).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Http2Server, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { RequestTooLarge } from '../../../../sidecar/exporters/internal/request.ts';
import { readPartialSuccess } from '../../../../sidecar/exporters/internal/otlp-response.ts';
import { GrpcH2Client, type GrpcClientOptions } from '../../../../sidecar/exporters/otlp/grpc-client.ts';
import { classifyGrpcError } from '../../../../sidecar/exporters/otlp/grpc-errors.ts';
import { GrpcCode } from '../../../../sidecar/net/grpc-protocol.ts';
import { GrpcCallError } from '../../../../sidecar/exporters/otlp/grpc-status.ts';
import { PermanentError, RetryableError } from '../../../../sidecar/component/errors.ts';
import { TRACE_EXPORT } from '../../../../sidecar/pdata/otlp-grpc-paths.ts';
import { GrpcH2Server } from '../../../../sidecar/receivers/otlp/grpc-h2.ts';
import { traceRequest, withRealNetwork } from '../../../support/delivery.ts';
import { freePort, GrpcSink, partialSuccessResponse } from '../../../support/otlp-sinks.ts';
import { PythonGrpcServer } from './testdata/python-server.ts';

const tlsDir = new URL('../internal/testdata/tls/', import.meta.url);
const tlsFile = (name: string) => fileURLToPath(new URL(name, tlsDir));
const UA = 'tracebridge/0.0.0-test (otlp)';

function client(port: number, extra: Partial<GrpcClientOptions> = {}, host = '127.0.0.1'): GrpcH2Client {
  return new GrpcH2Client({ target: `${host}:${port}`, userAgent: UA, initialBackoffMs: 50, maxBackoffMs: 200, ...extra });
}

async function failure(p: Promise<unknown>): Promise<GrpcCallError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GrpcCallError, `not a GrpcCallError: ${String(err)}`);
    return err;
  }
  assert.fail('the call succeeded');
}

/** A plain node:http2 server whose streams `onStream` answers; records sessions and reset codes. */
async function h2Server(onStream: (stream: ServerHttp2Stream, body: Buffer, session: ServerHttp2Session) => void, settings: { maxConcurrentStreams?: number } = {}) {
  const sessions = new Set<ServerHttp2Session>();
  const resets: number[] = [];
  const server: Http2Server = createServer({ settings });
  server.on('session', (s) => {
    sessions.add(s);
    s.on('error', () => undefined);
  });
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    stream.on('close', () => resets.push(stream.rstCode));
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => onStream(stream, Buffer.concat(chunks), stream.session as ServerHttp2Session));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    sessions,
    resets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  };
}

function grpcOk(stream: ServerHttp2Stream, message = Buffer.alloc(0), compressed = false): void {
  if (stream.closed) return;
  const frame = Buffer.alloc(5 + message.length);
  frame[0] = compressed ? 1 : 0;
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...(compressed ? { 'grpc-encoding': 'gzip' } : {}) }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(frame);
}

describe('otlp exporter gRPC client (node:http2)', function () {
  this.timeout(20_000);
  withRealNetwork();
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  describe('against grpc-js', () => {
    let sink: GrpcSink;
    beforeEach(async () => {
      sink = await new GrpcSink().start();
      cleanup.push(() => sink.stop());
    });

    it('sends the message with metadata (lower-cased, -bin base64) and its User-Agent; reads partial_success', async () => {
      const c = client(sink.port, { metadata: { 'X-Tenant': 'blue', 'trace-bin': 'raw' } });
      cleanup.push(() => c.close());
      sink.script = [{ kind: 'ok', rejected: 3, message: 'too old' }];
      const body = traceRequest(5);
      const res = await c.call(TRACE_EXPORT, body, 2000);
      assert.deepEqual(readPartialSuccess(res), { rejected: 3, message: 'too old' });
      const got = sink.received[0]!;
      assert.deepEqual(got.bytes, body);
      assert.equal(got.headers['x-tenant'], 'blue');
      assert.equal(got.headers['trace-bin'], 'raw', 'grpc-js decodes the base64 of a -bin key back to the bytes');
      assert.match(got.headers['user-agent'] ?? '', /^tracebridge\/0\.0\.0-test \(otlp\)/);
    });

    it('gzip: the server reads the compressed request as the original bytes', async () => {
      const c = client(sink.port, { compression: 'gzip' });
      cleanup.push(() => c.close());
      const body = traceRequest(300);
      await c.call(TRACE_EXPORT, body, 2000);
      assert.deepEqual(sink.received[0]!.bytes, body);
    });

    it('classifies statuses: UNAVAILABLE retryable, INVALID_ARGUMENT permanent, RESOURCE_EXHAUSTED with RetryInfo retried after its delay, without it split', async () => {
      const c = client(sink.port);
      cleanup.push(() => c.close());
      sink.script = [
        { kind: 'grpc-error', code: GrpcCode.UNAVAILABLE, message: 'backend restarting' },
        { kind: 'grpc-error', code: GrpcCode.INVALID_ARGUMENT, message: 'bad span: 100% wrong' },
        { kind: 'grpc-error', code: GrpcCode.RESOURCE_EXHAUSTED, message: 'slow down', retryInfoMs: 700 },
        { kind: 'grpc-error', code: GrpcCode.RESOURCE_EXHAUSTED, message: 'Received message larger than max (5000 vs. 4000)' },
      ];
      const body = traceRequest(1);
      const unavailable = await failure(c.call(TRACE_EXPORT, body, 2000));
      assert.equal(unavailable.code, GrpcCode.UNAVAILABLE);
      assert.ok(classifyGrpcError(unavailable) instanceof RetryableError);
      const invalid = await failure(c.call(TRACE_EXPORT, body, 2000));
      assert.equal(invalid.details, 'bad span: 100% wrong', 'grpc-message percent-decoded');
      assert.ok(classifyGrpcError(invalid) instanceof PermanentError);
      const throttled = classifyGrpcError(await failure(c.call(TRACE_EXPORT, body, 2000)));
      assert.ok(throttled instanceof RetryableError && throttled.retryAfterMs === 700 && throttled.throttle);
      const tooLarge = classifyGrpcError(await failure(c.call(TRACE_EXPORT, body, 2000)));
      assert.ok(tooLarge instanceof RequestTooLarge && tooLarge.limitBytes === 4000, String(tooLarge));
    });

    it('reaches a server on an IPv6 literal', async () => {
      const v6 = await new GrpcSink().start(0, undefined, '[::1]');
      cleanup.push(() => v6.stop());
      const c = client(v6.port, {}, '[::1]');
      cleanup.push(() => c.close());
      await c.call(TRACE_EXPORT, traceRequest(1), 2000);
      assert.equal(v6.spansReceived(), 1);
    });

    it('TLS with a test CA (and server_name_override), refused without it', async () => {
      const tlsSink = await new GrpcSink().start(0, { cert: readFileSync(tlsFile('server.pem')), key: readFileSync(tlsFile('server-key.pem')) });
      cleanup.push(() => tlsSink.stop());
      const ca = readFileSync(tlsFile('ca.pem'));
      const good = client(tlsSink.port, { tls: { ca, rejectUnauthorized: true, servername: 'localhost' } });
      cleanup.push(() => good.close());
      await good.call(TRACE_EXPORT, traceRequest(1), 3000);
      assert.equal(tlsSink.spansReceived(), 1);
      const untrusted = client(tlsSink.port, { tls: { rejectUnauthorized: true } });
      cleanup.push(() => untrusted.close());
      const err = await failure(untrusted.call(TRACE_EXPORT, traceRequest(1), 3000));
      assert.equal(err.code, GrpcCode.UNAVAILABLE);
      assert.match(err.details, /certificate/);
      assert.equal(tlsSink.spansReceived(), 1);
    });

    it('deadline: DEADLINE_EXCEEDED against a server that never answers; the call is cancelled on the wire', async () => {
      sink.fallback = { kind: 'hang' };
      const c = client(sink.port);
      cleanup.push(() => c.close());
      const started = Date.now();
      const err = await failure(c.call(TRACE_EXPORT, traceRequest(1), 300));
      assert.equal(err.code, GrpcCode.DEADLINE_EXCEEDED);
      assert.ok(Date.now() - started < 2000);
      assert.ok(classifyGrpcError(err) instanceof RetryableError);
    });

    it('an abort (shutdown) fails the call in flight CANCELLED', async () => {
      sink.fallback = { kind: 'hang' };
      const c = client(sink.port);
      cleanup.push(() => c.close());
      const ac = new AbortController();
      const call = c.call(TRACE_EXPORT, traceRequest(1), 5000, ac.signal);
      await sink.waitForRequests(1);
      ac.abort();
      assert.equal((await failure(call)).code, GrpcCode.CANCELLED);
    });

    it('the server going away under calls fails them UNAVAILABLE; the next call reconnects', async () => {
      sink.fallback = { kind: 'hang' };
      const port = sink.port;
      const c = client(port);
      cleanup.push(() => c.close());
      const calls = [c.call(TRACE_EXPORT, traceRequest(1), 5000), c.call(TRACE_EXPORT, traceRequest(1), 5000)];
      await sink.waitForRequests(2);
      await sink.stop(); // forceShutdown: the connection is dropped
      for (const call of calls) assert.equal((await failure(call)).code, GrpcCode.UNAVAILABLE);
      sink = await new GrpcSink().start(port);
      cleanup.push(() => sink.stop());
      await new Promise((r) => setTimeout(r, 250)); // past the reconnect backoff
      await c.call(TRACE_EXPORT, traceRequest(2), 2000);
      assert.equal(sink.spansReceived(), 2);
    });
  });

  describe('against gRPC C-core (python3 grpcio)', () => {
    it('OK with partial_success, statuses with percent-encoded messages, RetryInfo, Trailers-Only errors', async () => {
      const py = await new PythonGrpcServer().start();
      cleanup.push(() => py.stop());
      const call = (reply: string, body = traceRequest(3)) => {
        const c = client(py.port, { metadata: { 'x-reply': reply } });
        cleanup.push(() => c.close());
        return c.call(TRACE_EXPORT, body, 3000);
      };
      const body = traceRequest(3);
      assert.deepEqual(readPartialSuccess(await call('ok', body)), { rejected: body.length, message: `got ${body.length} bytes` });
      assert.deepEqual((await py.callsAtLeast(1))[0]!.bytes, body);
      assert.equal((await call('empty')).length, 0);
      const unavailable = await failure(call('unavailable'));
      assert.deepEqual([unavailable.code, unavailable.details], [GrpcCode.UNAVAILABLE, 'scripted: a b%c']);
      const invalid = await failure(call('invalid'));
      assert.equal(invalid.code, GrpcCode.INVALID_ARGUMENT);
      assert.ok(classifyGrpcError(invalid) instanceof PermanentError && !(classifyGrpcError(invalid) instanceof RequestTooLarge));
      const retry = classifyGrpcError(await failure(call('exhausted-retry')));
      assert.ok(retry instanceof RetryableError && retry.retryAfterMs === 1500, String(retry));
      const split = classifyGrpcError(await failure(call('exhausted')));
      assert.ok(split instanceof RequestTooLarge && split.limitBytes === 1000, String(split));
    });

    it('gzip both ways: compressed request read intact, compressed response decompressed', async () => {
      const py = await new PythonGrpcServer().start({ compression: 'gzip' });
      cleanup.push(() => py.stop());
      const c = client(py.port, { compression: 'gzip' });
      cleanup.push(() => c.close());
      const body = traceRequest(200);
      const res = await c.call(TRACE_EXPORT, body, 3000);
      const [first] = await py.callsAtLeast(1);
      assert.deepEqual(first!.bytes, body);
      assert.equal(first!.metadata['grpc-encoding'] ?? 'gzip', 'gzip');
      assert.deepEqual(readPartialSuccess(res), { rejected: body.length, message: `got ${body.length} bytes` });
    });

    it('TLS with a test CA', async () => {
      const py = await new PythonGrpcServer().start({ certFile: tlsFile('server.pem'), keyFile: tlsFile('server-key.pem') });
      cleanup.push(() => py.stop());
      const c = client(py.port, { tls: { ca: readFileSync(tlsFile('ca.pem')), rejectUnauthorized: true } });
      cleanup.push(() => c.close());
      await c.call(TRACE_EXPORT, traceRequest(1), 5000);
      assert.equal((await py.callsAtLeast(1)).length, 1);
    });

    it('max_concurrent_streams 1: 20 concurrent calls on one connection all complete', async () => {
      const py = await new PythonGrpcServer().start({ maxStreams: 1 });
      cleanup.push(() => py.stop());
      const c = client(py.port, { metadata: { 'x-reply': 'empty' } });
      cleanup.push(() => c.close());
      const bodies = Array.from({ length: 20 }, (_, i) => traceRequest(i + 1));
      await Promise.all(bodies.map((b) => c.call(TRACE_EXPORT, b, 10_000)));
      const calls = await py.callsAtLeast(20);
      assert.equal(calls.length, 20);
      assert.deepEqual(calls.map((call) => call.bytes).sort((a, b) => Buffer.compare(a, b)), [...bodies].sort((a, b) => Buffer.compare(a, b)), 'each request arrived once, intact');
    });

    it('graceful shutdown (GOAWAY) under calls: calls it took complete, and after a restart new calls reconnect', async () => {
      const py = await new PythonGrpcServer().start();
      cleanup.push(() => py.stop());
      const c = client(py.port, { metadata: { 'x-reply': 'slow' } });
      cleanup.push(() => c.close());
      const inFlight = [c.call(TRACE_EXPORT, traceRequest(1), 5000), c.call(TRACE_EXPORT, traceRequest(2), 5000)];
      while (py.calls.length < 2) await new Promise((r) => setTimeout(r, 10));
      const stopped = py.stop();
      for (const call of inFlight) assert.equal((await call).length, 0);
      await stopped;
      const port = py.port;
      const again = await new PythonGrpcServer().start({ port });
      cleanup.push(() => again.stop());
      await new Promise((r) => setTimeout(r, 250));
      await c.call(TRACE_EXPORT, traceRequest(3), 5000);
      assert.equal((await again.callsAtLeast(1)).length, 1);
    });
  });

  describe('against node:http2 servers', () => {
    it('a non-gRPC server answering 404 / 503 HTML: UNIMPLEMENTED (permanent) / UNAVAILABLE (retryable)', async () => {
      let status = 404;
      const srv = await h2Server((stream) => {
        stream.respond({ ':status': status, 'content-type': 'text/html' });
        stream.end('<html><body>Not here</body></html>');
      });
      cleanup.push(() => srv.close());
      const c = client(srv.port);
      cleanup.push(() => c.close());
      const notFound = await failure(c.call(TRACE_EXPORT, traceRequest(1), 2000));
      assert.equal(notFound.code, GrpcCode.UNIMPLEMENTED);
      assert.match(notFound.details, /404/);
      assert.ok(classifyGrpcError(notFound) instanceof PermanentError);
      status = 503;
      const unavailable = await failure(c.call(TRACE_EXPORT, traceRequest(1), 2000));
      assert.equal(unavailable.code, GrpcCode.UNAVAILABLE);
      assert.ok(classifyGrpcError(unavailable) instanceof RetryableError);
    });

    it('a 200 without grpc-status is INTERNAL, saying so; a Trailers-Only error is read from the headers', async () => {
      let mode = 'no-status';
      const srv = await h2Server((stream) => {
        if (mode === 'no-status') stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { endStream: true });
        else stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'draining%20now' }, { endStream: true });
      });
      cleanup.push(() => srv.close());
      const c = client(srv.port);
      cleanup.push(() => c.close());
      const missing = await failure(c.call(TRACE_EXPORT, traceRequest(1), 2000));
      assert.equal(missing.code, GrpcCode.INTERNAL);
      assert.match(missing.details, /grpc-status/);
      mode = 'trailers-only';
      const only = await failure(c.call(TRACE_EXPORT, traceRequest(1), 2000));
      assert.deepEqual([only.code, only.details], [GrpcCode.UNAVAILABLE, 'draining now']);
    });

    it('a stream reset after its response headers, or ended without trailers, is UNAVAILABLE (retryable): never INTERNAL, never OK from a grpc-status in non-final headers', async () => {
      let mode = 'reset';
      let code = 7;
      let handled = 0;
      const srv = await h2Server((stream) => {
        handled++;
        if (mode === 'reset') {
          // Headers out, then the stream is reset (a proxy whose upstream went away does this).
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
          setTimeout(() => stream.close(code), 20);
        } else {
          // grpc-status 0 in headers that do not end the stream, then a message and no trailers.
          stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' });
          stream.end(Buffer.alloc(5));
        }
      });
      cleanup.push(() => srv.close());
      const c = client(srv.port);
      cleanup.push(() => c.close());
      for (const rst of [7, 8, 2]) {
        code = rst;
        const before = handled;
        const err = await failure(c.call(TRACE_EXPORT, traceRequest(1), 2000));
        assert.equal(err.code, GrpcCode.UNAVAILABLE, `RST_STREAM ${rst}: ${err.message}`);
        assert.ok(classifyGrpcError(err) instanceof RetryableError);
        assert.equal(handled - before, 1, 'the client does not send it again itself');
      }
      mode = 'status-in-headers';
      const noTrailers = await failure(c.call(TRACE_EXPORT, traceRequest(1), 2000));
      assert.equal(noTrailers.code, GrpcCode.UNAVAILABLE, noTrailers.message);
      assert.match(noTrailers.details, /without trailers/);
    });

    it('10 concurrent 3 MiB calls on one connection (an exporter\'s 10 consumers at 4 MiB requests) reach a tracebridge receiver, none reset by this client\'s own session memory', async () => {
      // node:http2 clients reset their own streams with ENHANCE_YOUR_CALM once more than 10 MB is
      // queued on a session (its default maxSessionMemory): the exporter had taken that for the
      // backend refusing the requests as too large and split them.
      const server = new GrpcH2Server({ maxMessageBytes: 4 * 1024 * 1024 });
      let handled = 0;
      server.addMethod(TRACE_EXPORT, async () => {
        handled++;
        await new Promise((r) => setTimeout(r, 100));
        return Buffer.alloc(0);
      });
      const port = await server.listen('127.0.0.1:0');
      cleanup.push(() => server.close(100));
      const c = client(port);
      cleanup.push(() => c.close());
      const body = Buffer.alloc(3 * 1024 * 1024, 1);
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => c.call(TRACE_EXPORT, body, 10_000)));
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
      assert.deepEqual(failed, []);
      assert.equal(handled, 10);
    });

    it('a stream reset with ENHANCE_YOUR_CALM before any answer (a server shedding load) is a throttle, retried whole: never split as too large', async () => {
      // node:http2 servers reset new streams so once their session memory is spent; the spans
      // were not refused for their size, and a one-span request cannot be split at all.
      let handled = 0;
      const srv = await h2Server((stream) => {
        handled++;
        stream.close(11 /* ENHANCE_YOUR_CALM */);
      });
      cleanup.push(() => srv.close());
      const c = client(srv.port);
      cleanup.push(() => c.close());
      const err = await failure(c.call(TRACE_EXPORT, traceRequest(1), 2000));
      assert.equal(err.code, GrpcCode.RESOURCE_EXHAUSTED, err.message); // as grpc-go maps it
      assert.match(err.details, /ENHANCE_YOUR_CALM/);
      const classified = classifyGrpcError(err);
      assert.ok(!(classified instanceof RequestTooLarge), 'classified as too large: it would be split, and a single span dropped');
      assert.ok(classified instanceof RetryableError, classified.message);
      assert.equal(classified.throttle, true);
      assert.equal(handled, 1);
    });

    it('a gzip-compressed response message is decompressed; one over 4 MiB is refused without a retry', async () => {
      let response = gzipSync(partialSuccessResponse(7, 'seven'));
      const srv = await h2Server((stream) => grpcOk(stream, response, true));
      cleanup.push(() => srv.close());
      const c = client(srv.port);
      cleanup.push(() => c.close());
      assert.deepEqual(readPartialSuccess(await c.call(TRACE_EXPORT, traceRequest(1), 2000)), { rejected: 7, message: 'seven' });
      response = gzipSync(Buffer.alloc(5 * 1024 * 1024));
      const err = await failure(c.call(TRACE_EXPORT, traceRequest(1), 2000));
      assert.equal(err.code, GrpcCode.RESOURCE_EXHAUSTED);
      const cls = classifyGrpcError(err);
      assert.ok(cls instanceof PermanentError && !(cls instanceof RequestTooLarge), 'delivered already: neither retried nor split');
    });

    it('the request is one Length-Prefixed-Message with the gRPC headers and a grpc-timeout', async () => {
      let seen: Record<string, unknown> = {};
      let wire = Buffer.alloc(0);
      const server = createServer();
      server.on('stream', (stream, headers) => {
        seen = headers;
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          wire = Buffer.concat(chunks);
          grpcOk(stream);
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
      const port = (server.address() as AddressInfo).port;
      const c = client(port, { compression: 'gzip', metadata: { 'Content-Type': 'text/plain', te: 'x' } });
      cleanup.push(() => c.close());
      const body = traceRequest(4);
      await c.call(TRACE_EXPORT, body, 1500);
      assert.equal(seen[':method'], 'POST');
      assert.equal(seen[':path'], TRACE_EXPORT);
      assert.equal(seen[':authority'], `127.0.0.1:${port}`);
      assert.equal(seen['content-type'], 'application/grpc', 'configured headers do not replace the transport\'s');
      assert.equal(seen.te, 'trailers');
      assert.equal(seen['grpc-encoding'], 'gzip');
      assert.match(String(seen['grpc-accept-encoding']), /gzip/);
      assert.match(String(seen['grpc-timeout']), /^1[45]\d\dm$/);
      assert.equal(wire[0], 1, 'compressed flag');
      assert.equal(wire.readUInt32BE(1), wire.length - 5);
      assert.deepEqual(gunzipSync(wire.subarray(5)), body);
    });

    it('SETTINGS_MAX_CONCURRENT_STREAMS 1: 20 concurrent calls all delivered, never two streams at once', async () => {
      let open = 0;
      let maxOpen = 0;
      let handled = 0;
      const server = createServer({ settings: { maxConcurrentStreams: 1 } });
      server.on('stream', (stream) => {
        open++;
        maxOpen = Math.max(maxOpen, open);
        stream.on('close', () => open--);
        stream.resume();
        stream.on('end', () =>
          setTimeout(() => {
            handled++;
            grpcOk(stream);
          }, 10),
        );
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
      const c = client((server.address() as AddressInfo).port);
      cleanup.push(() => c.close());
      await Promise.all(Array.from({ length: 20 }, () => c.call(TRACE_EXPORT, traceRequest(1), 10_000)));
      assert.equal(handled, 20);
      assert.equal(maxOpen, 1);
    });

    it('GOAWAY: calls the server took complete, those above its last stream id go again on a new connection (each handled once)', async () => {
      let handled = 0;
      let first: ServerHttp2Session | undefined;
      const srv = await h2Server((stream, _body, session) => {
        first ??= session;
        if (session === first) {
          // Takes streams 1 and 3; whatever the client opened after them is not processed.
          if (stream.id === 3) session.goaway(0, 3);
          if (stream.id! > 3) return;
        }
        handled++;
        setTimeout(() => grpcOk(stream), 50);
      });
      cleanup.push(() => srv.close());
      const c = client(srv.port);
      cleanup.push(() => c.close());
      const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => c.call(TRACE_EXPORT, traceRequest(i + 1), 5000)));
      assert.deepEqual(results.map((r) => r.status), Array(6).fill('fulfilled'), JSON.stringify(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))));
      assert.equal(handled, 6);
      assert.equal(srv.sessions.size, 2, 'a second connection after GOAWAY');
    });

    it('deadline against a server that never answers: DEADLINE_EXCEEDED, and the server sees RST_STREAM CANCEL', async () => {
      const srv = await h2Server(() => undefined);
      cleanup.push(() => srv.close());
      const c = client(srv.port);
      cleanup.push(() => c.close());
      assert.equal((await failure(c.call(TRACE_EXPORT, traceRequest(1), 200))).code, GrpcCode.DEADLINE_EXCEEDED);
      for (let i = 0; i < 100 && srv.resets.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(srv.resets, [8]);
    });

    it('a connection that stops answering (no FIN, no RST) is replaced after a call hits its deadline and a PING goes unanswered', async () => {
      const sink = await new GrpcSink().start();
      cleanup.push(() => sink.stop());
      // A TCP relay whose existing connections can be frozen: bytes no longer pass either way.
      const frozen = new Set<Socket>();
      const live = new Set<Socket>();
      const relay = createTcpServer((down) => {
        const up = connect(sink.port, '127.0.0.1');
        live.add(down);
        down.on('data', (c: Buffer) => frozen.has(down) || up.write(c));
        up.on('data', (c: Buffer) => frozen.has(down) || down.write(c));
        down.on('error', () => up.destroy());
        up.on('error', () => down.destroy());
        down.on('close', () => up.destroy());
      });
      await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
      cleanup.push(() => {
        for (const s of live) s.destroy();
        return new Promise<void>((r) => relay.close(() => r()));
      });
      const c = client((relay.address() as AddressInfo).port);
      cleanup.push(() => c.close());
      await c.call(TRACE_EXPORT, traceRequest(1), 1000);
      for (const s of live) frozen.add(s);
      assert.equal((await failure(c.call(TRACE_EXPORT, traceRequest(1), 200))).code, GrpcCode.DEADLINE_EXCEEDED);
      await new Promise((r) => setTimeout(r, 1300)); // the PING's answer is due within 1 s
      await c.call(TRACE_EXPORT, traceRequest(2), 1000);
      assert.equal(sink.spansReceived(), 3);
      assert.equal(live.size, 2, 'a second connection');
    });

    it('connection refused, then the server starts: UNAVAILABLE (retryable) until it is up, then delivered', async () => {
      const port = await freePort();
      const c = client(port);
      cleanup.push(() => c.close());
      const refused = await failure(c.call(TRACE_EXPORT, traceRequest(1), 2000));
      assert.equal(refused.code, GrpcCode.UNAVAILABLE);
      assert.match(refused.details, /ECONNREFUSED/);
      assert.ok(classifyGrpcError(refused) instanceof RetryableError);
      const sink = await new GrpcSink().start(port);
      cleanup.push(() => sink.stop());
      await new Promise((r) => setTimeout(r, 250));
      await c.call(TRACE_EXPORT, traceRequest(2), 2000);
      assert.equal(sink.spansReceived(), 2);
    });

    it('calls waiting for one connection share one connection attempt', async () => {
      let connections = 0;
      const server = createServer();
      server.on('connection', () => connections++);
      server.on('stream', (stream) => {
        stream.resume();
        stream.on('end', () => grpcOk(stream));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
      const c = client((server.address() as AddressInfo).port);
      cleanup.push(() => c.close());
      await Promise.all(Array.from({ length: 10 }, () => c.call(TRACE_EXPORT, traceRequest(1), 3000)));
      assert.equal(connections, 1);
    });

    it('close() (the exporter\'s shutdown) closes its connection, and later calls fail CANCELLED', async () => {
      const srv = await h2Server((stream) => grpcOk(stream));
      cleanup.push(() => srv.close());
      const c = client(srv.port);
      await c.call(TRACE_EXPORT, traceRequest(1), 2000);
      const [session] = [...srv.sessions];
      const closed = new Promise<void>((r) => (session!.closed ? r() : session!.once('close', () => r())));
      c.close();
      c.close();
      await closed;
      assert.equal((await failure(c.call(TRACE_EXPORT, traceRequest(1), 2000))).code, GrpcCode.CANCELLED);
    });

    it('an idle connection does not keep the process alive', async () => {
      const sink = await new GrpcSink().start();
      cleanup.push(() => sink.stop());
      const mod = fileURLToPath(new URL('../../../../sidecar/exporters/otlp/grpc-client.ts', import.meta.url));
      const script = `
        const { GrpcH2Client } = await import(${JSON.stringify(mod)});
        const c = new GrpcH2Client({ target: '127.0.0.1:${sink.port}', userAgent: 'x' });
        await c.call('${TRACE_EXPORT}', Buffer.alloc(0), 2000);
        console.log('called');`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 5000);
        child.on('exit', () => {
          clearTimeout(t);
          resolve(true);
        });
      });
      if (!exited) child.kill();
      assert.ok(exited, `the process did not exit by itself: ${out}`);
      assert.match(out, /called/);
      assert.equal(sink.received.length, 1);
    });
  });
});
