// Each endpoint of the otlp receiver serves both OTLP/gRPC and OTLP/HTTP, told apart by a
// connection's first bytes: apps often build one exporter in code and take only the endpoint from
// the environment, so a gRPC exporter pointed at :4318 (or an HTTP one at :4317) must still get
// its spans through. Driven by real clients: the OpenTelemetry JS SDK exporters, gRPC C-core
// (python3 grpcio), curl, nghttp and node:http2.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { connect as h2connect, type ClientHttp2Session, type Settings } from 'node:http2';
import { request as http1Request, Agent } from 'node:http';
import { gzipSync } from 'node:zlib';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { Service } from '../../../../sidecar/service/service.ts';
import { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import { grpcConfig, httpConfig } from '../../../../sidecar/receivers/otlp/config.ts';
import { LOGS_EXPORT, METRICS_EXPORT, TRACE_EXPORT } from '../../../../sidecar/pdata/otlp-grpc-paths.ts';
import { MetricsRegistry } from '../../../../sidecar/telemetry/metrics.ts';
import { SinkExporter, silentLogger, sinks, startService } from '../../../support/sink.ts';
import { freePort } from '../../../support/otlp-sinks.ts';
import { testApp } from '../../../support/otel.ts';
import { cat, len, resourcePayload, scopePayload } from '../../pdata/framing.ts';
import { pythonCalls } from './testdata/python-client.ts';
import { PREFACE } from './testdata/raw-h2.ts';
import { call, grpcFrame, startCall } from './testdata/h2-call.ts';
import { curlPost, h2cRequest, http1Post, nghttpPost, TrickleProxy, type HttpAnswer } from './testdata/clients.ts';
import { tinySpans as spans } from '../../../support/spans.ts';

const MiB = 1024 * 1024;
const PROTOBUF = { 'content-type': 'application/x-protobuf' };
const Status = { OK: 0, RESOURCE_EXHAUSTED: 8 } as const;

const config = (protocols: string, sink = '{}') => `
receivers:
  otlp:
    protocols:
${protocols}
exporters:
  sink: ${sink}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [sink] }
    metrics: { receivers: [otlp], exporters: [sink] }
    logs: { receivers: [otlp], exporters: [sink] }
  telemetry: { metrics: { level: none } }
`;

const BOTH = config(`
      grpc: { endpoint: 127.0.0.1:0, max_recv_msg_size_mib: 1 }
      http: { endpoint: 127.0.0.1:0, max_request_body_size: 8192 }`);


/** A well-framed metrics or logs request (passed through unread). */
const OPAQUE = len(1, cat(len(1, resourcePayload()), len(2, cat(len(1, scopePayload()), len(2, 'a record')))));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function exportOne(exporter: SpanExporter, name: string): Promise<void> {
  const app = testApp(exporter);
  app.tracer.startSpan(name).end();
  await app.flush();
  await app.provider.shutdown();
}

function metric(svc: Service, name: string, labels: string): number {
  const line = svc.metrics
    .render()
    .split('\n')
    .find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

/** The spans' names in the sink. */
const names = () =>
  sinks
    .get('sink')!
    .spans()
    .map((s) => s.span.name);

describe('otlp receiver: OTLP/gRPC and OTLP/HTTP on both ports', function () {
  this.timeout(20_000);
  let svc: Service;
  let receiver: OtlpReceiver;
  let grpcPort: number;
  let httpPort: number;
  const sink = () => sinks.get('sink')!;

  describe('with both protocol sections', () => {
    beforeEach(async () => {
      svc = await startService(BOTH);
      receiver = svc.receivers.get('otlp') as OtlpReceiver;
      grpcPort = receiver.grpc!.port;
      httpPort = receiver.http!.port;
    });
    afterEach(() => svc.shutdown());

    describe('SDK exporters on the other protocol’s port', () => {
      it('the OTLP/gRPC exporter pointed at the HTTP port delivers its spans', async () => {
        await exportOne(new GrpcExporter({ url: `http://127.0.0.1:${httpPort}` }), 'grpc-on-http-port');
        await sink().waitForSpans(1);
        assert.deepEqual(names(), ['grpc-on-http-port']);
      });

      it('the OTLP/gRPC exporter with gzip pointed at the HTTP port delivers its spans', async () => {
        await exportOne(new GrpcExporter({ url: `http://127.0.0.1:${httpPort}`, compression: 'gzip' as never }), 'gzip-grpc-on-http-port');
        await sink().waitForSpans(1);
        assert.deepEqual(names(), ['gzip-grpc-on-http-port']);
      });

      it('the OTLP/HTTP protobuf exporter pointed at the gRPC port delivers its spans', async () => {
        await exportOne(new ProtoExporter({ url: `http://127.0.0.1:${grpcPort}/v1/traces` }), 'proto-on-grpc-port');
        await sink().waitForSpans(1);
        assert.deepEqual(names(), ['proto-on-grpc-port']);
      });

      it('the OTLP/HTTP JSON exporter pointed at the gRPC port delivers its spans', async () => {
        await exportOne(new JsonExporter({ url: `http://127.0.0.1:${grpcPort}/v1/traces` }), 'json-on-grpc-port');
        await sink().waitForSpans(1);
        assert.deepEqual(names(), ['json-on-grpc-port']);
      });

      it('counts spans under the transport of their protocol, whichever port they came in on', async () => {
        await exportOne(new GrpcExporter({ url: `http://127.0.0.1:${httpPort}` }), 'a');
        await exportOne(new GrpcExporter({ url: `http://127.0.0.1:${httpPort}` }), 'b');
        await exportOne(new ProtoExporter({ url: `http://127.0.0.1:${grpcPort}/v1/traces` }), 'c');
        await sink().waitForSpans(3);
        assert.equal(metric(svc, 'otelcol_receiver_accepted_spans_total', 'receiver="otlp",transport="grpc"'), 2);
        assert.equal(metric(svc, 'otelcol_receiver_accepted_spans_total', 'receiver="otlp",transport="http"'), 1);
      });
    });

    describe('other clients', () => {
      it('gRPC C-core (python3 grpcio) on the HTTP port: traces and metrics', async () => {
        const traces = await pythonCalls(httpPort, TRACE_EXPORT, spans(3, 'core'), { count: 3 });
        assert.deepEqual(traces, Array.from({ length: 3 }, () => ({ code: 'OK', details: '' })));
        const metrics = await pythonCalls(httpPort, METRICS_EXPORT, OPAQUE, { compression: 'gzip' });
        assert.deepEqual(metrics, [{ code: 'OK', details: '' }]);
        await sink().waitForSpans(9);
        assert.deepEqual(
          sink().opaque.map((o) => [o.signal, Buffer.from(o.bytes).equals(OPAQUE)]),
          [['metrics', true]],
        );
      });

      it('curl over HTTP/1.1 on the gRPC port: traces and logs', async () => {
        const traces = await curlPost(grpcPort, '/v1/traces', spans(2, 'curl'), PROTOBUF, '--http1.1');
        assert.equal(traces.version, '1.1');
        assert.equal(traces.status, 200);
        assert.equal(traces.headers['content-type'], 'application/x-protobuf');
        assert.equal(traces.body.length, 0, 'an empty ExportTraceServiceResponse');
        const logs = await curlPost(grpcPort, '/v1/logs', OPAQUE, PROTOBUF, '--http1.1');
        assert.equal(logs.status, 200);
        assert.deepEqual(names(), ['curl0', 'curl1']);
        assert.deepEqual(
          sink().opaque.map((o) => [o.signal, Buffer.from(o.bytes).equals(OPAQUE)]),
          [['logs', true]],
        );
      });

      it('nghttp (h2c with prior knowledge) posts OTLP/HTTP protobuf to either port: traces, metrics, logs', async () => {
        for (const port of [httpPort, grpcPort]) {
          const traces = await nghttpPost(port, '/v1/traces', spans(1, `nghttp-${port === httpPort ? 'http' : 'grpc'}-port`), PROTOBUF);
          assert.equal(traces.status, 200);
          assert.equal(traces.headers['content-type'], 'application/x-protobuf');
          for (const path of ['/v1/metrics', '/v1/logs']) assert.equal((await nghttpPost(port, path, OPAQUE, PROTOBUF)).status, 200, path);
        }
        assert.deepEqual(names(), ['nghttp-http-port0', 'nghttp-grpc-port0']);
        assert.deepEqual(
          sink().opaque.map((o) => o.signal),
          ['metrics', 'logs', 'metrics', 'logs'],
        );
        assert.equal(metric(svc, 'otelcol_receiver_accepted_spans_total', 'receiver="otlp",transport="http"'), 2);
        assert.equal(metric(svc, 'tracebridge_receiver_passthrough_accepted_requests_total', 'receiver="otlp",signal="logs",transport="http"'), 2);
      });

      it('curl --http2-prior-knowledge on the gRPC port is answered over HTTP/2', async () => {
        const a = await curlPost(grpcPort, '/v1/traces', spans(1, 'curl-h2c'), PROTOBUF, '--http2-prior-knowledge');
        assert.equal(a.version, '2');
        assert.equal(a.status, 200);
        assert.deepEqual(names(), ['curl-h2c0']);
      });

      it('HTTP/1.1 with Upgrade: h2c (curl --http2) is served over HTTP/1.1 on both ports', async () => {
        for (const port of [httpPort, grpcPort]) {
          const a = await curlPost(port, '/v1/traces', spans(1, 'upgrade'), PROTOBUF, '--http2');
          assert.equal(a.status, 200);
          assert.equal(a.version, '1.1');
        }
        assert.equal(sink().spanCount(), 2);
      });
    });

    describe('OTLP/HTTP on an HTTP/2 connection answers as on HTTP/1.1', () => {
      for (const [name, port] of [
        ['HTTP port', () => httpPort],
        ['gRPC port', () => grpcPort],
      ] as const) {
        it(`${name}: 415 for an unsupported content type or encoding, 404 for an unknown path, 405 for GET`, async () => {
          const type = await h2cRequest(port(), '/v1/traces', spans(1), { 'content-type': 'text/plain' });
          assert.equal(type.status, 415);
          assert.match(type.body.toString(), /unsupported Content-Type "text\/plain"/);
          const encoding = await h2cRequest(port(), '/v1/traces', spans(1), { ...PROTOBUF, 'content-encoding': 'br' });
          assert.equal(encoding.status, 415);
          const unknown = await h2cRequest(port(), '/v2/traces', spans(1), PROTOBUF);
          assert.equal(unknown.status, 404);
          assert.match(unknown.body.toString(), /no OTLP endpoint at \/v2\/traces/);
          const get = await h2cRequest(port(), '/v1/traces', Buffer.alloc(0), {}, 'GET');
          assert.equal(get.status, 405);
          assert.equal(get.headers.allow, 'POST');
          assert.equal(sink().spanCount(), 0);
        });

        it(`${name}: 413 for a body over max_request_body_size, on the wire or decompressed; the connection keeps serving`, async () => {
          const big = spans(200);
          assert.ok(big.length > 8192 && gzipSync(big).length < 8192);
          const wire = await h2cRequest(port(), '/v1/traces', big, PROTOBUF);
          assert.equal(wire.status, 413);
          const declared = await h2cRequest(port(), '/v1/traces', big, { ...PROTOBUF, 'content-length': String(big.length) });
          assert.equal(declared.status, 413);
          assert.match(declared.body.toString('latin1'), new RegExp(`request body of ${big.length} bytes exceeds the limit of 8192 bytes`));
          const bomb = await h2cRequest(port(), '/v1/traces', gzipSync(big), { ...PROTOBUF, 'content-encoding': 'gzip' });
          assert.equal(bomb.status, 413);
          assert.match(bomb.body.toString('latin1'), /decompressed request body exceeds the limit of 8192 bytes/);
          // A body over the limit sent without content-length on one connection, then a good request on it.
          const session = await openH2(port());
          try {
            const refused = await sessionRequest(session, '/v1/traces', big, PROTOBUF);
            assert.equal(refused.status, 413);
            const ok = await sessionRequest(session, '/v1/traces', spans(1, 'after-413'), PROTOBUF);
            assert.equal(ok.status, 200);
          } finally {
            session.close();
          }
          assert.deepEqual(names(), ['after-4130']);
        });

        it(`${name}: gzip protobuf and JSON (answered in JSON) are accepted`, async () => {
          const gz = await h2cRequest(port(), '/v1/traces', gzipSync(spans(2, 'gz')), { ...PROTOBUF, 'content-encoding': 'gzip' });
          assert.equal(gz.status, 200);
          const json = {
            resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'json', startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] }],
          };
          const j = await h2cRequest(port(), '/v1/traces', Buffer.from(JSON.stringify(json)), { 'content-type': 'application/json' });
          assert.equal(j.status, 200);
          assert.equal(j.headers['content-type'], 'application/json');
          assert.deepEqual(JSON.parse(j.body.toString()), {});
          const bad = await h2cRequest(port(), '/v1/traces', Buffer.from('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}'), { 'content-type': 'application/json' });
          assert.equal(bad.status, 400);
          assert.equal(JSON.parse(bad.body.toString()).code, 3);
          assert.deepEqual(names(), ['gz0', 'gz1', 'json']);
        });
      }
    });

    it('never ingests an OTLP/HTTP request whose HTTP/2 stream the client reset before its end; the connection keeps serving', async () => {
      const session = await openH2(grpcPort);
      try {
        const body = spans(50, 'reset');
        const stream = session.request({ ':method': 'POST', ':path': '/v1/traces', ...PROTOBUF });
        stream.on('error', () => undefined);
        stream.write(body.subarray(0, body.length - 10));
        await sleep(100);
        stream.close(0x8 /* CANCEL */);
        await sleep(100);
        const ok = await sessionRequest(session, '/v1/traces', spans(1, 'after-reset'), PROTOBUF);
        assert.equal(ok.status, 200);
      } finally {
        session.close();
      }
      assert.deepEqual(names(), ['after-reset0']);
    });

    it('gRPC calls with a content type other than gRPC keep their gRPC answer on the HTTP port', async () => {
      const a = await call(httpPort, TRACE_EXPORT, grpcFrame(spans(1)), { 'content-type': 'application/grpc-web' });
      assert.equal(a.httpStatus, 415);
      assert.equal(a.grpcStatus, 3 /* INVALID_ARGUMENT */);
      assert.match(a.grpcMessage, /content-type/);
    });

    describe('each protocol’s settings apply on both ports', () => {
      it('one in-flight byte budget for gRPC calls on both ports', async () => {
        // 1 MiB messages, held half-sent; the default budget is 32 MiB.
        const sessions = [await openH2(grpcPort), await openH2(httpPort)];
        try {
          const prefix = Buffer.concat([Buffer.from([0, 0, 0x10, 0, 0]), Buffer.alloc(1024)]);
          const calls = Array.from({ length: 40 }, (_, i) => startCall(sessions[i % 2]!, TRACE_EXPORT, prefix, { end: false }));
          let refused = 0;
          await Promise.race([Promise.all(calls.map((c) => c.answer.then(() => refused++))), sleep(1500)]);
          assert.equal(refused, 8);
          assert.equal(metric(svc, 'tracebridge_receiver_grpc_refused_calls_total', 'reason="inflight_limit",receiver="otlp",transport="grpc"'), 8);
          for (const c of calls) c.stream.close();
        } finally {
          for (const s of sessions) s.close();
        }
      });

      it('max_connection_idle and max_concurrent_streams hold for HTTP/2 connections on the HTTP port', async () => {
        await svc.shutdown();
        svc = await startService(config(`
      grpc: { endpoint: 127.0.0.1:0, max_concurrent_streams: 7, keepalive: { server_parameters: { max_connection_idle: 200ms } } }
      http: { endpoint: 127.0.0.1:0 }`));
        const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
        const session = h2connect(`http://127.0.0.1:${port}`);
        const settings = await new Promise<Settings>((r) => session.once('remoteSettings', r));
        assert.equal(settings.maxConcurrentStreams, 7);
        assert.equal((await sessionRequest(session, '/v1/traces', spans(1), PROTOBUF)).status, 200);
        await new Promise<void>((r) => session.once('goaway', () => r()));
        session.close();
      });

      it('a gRPC call on the HTTP port is held to max_recv_msg_size_mib', async () => {
        const prefix = Buffer.alloc(5);
        prefix.writeUInt32BE(2 * MiB, 1);
        const a = await call(httpPort, TRACE_EXPORT, prefix);
        assert.equal(a.grpcStatus, Status.RESOURCE_EXHAUSTED);
        assert.equal(a.grpcMessage, `Received message larger than max (${2 * MiB} vs. ${MiB})`);
        const ok = await call(httpPort, TRACE_EXPORT, grpcFrame(spans(1, 'fits')));
        assert.equal(ok.grpcStatus, Status.OK, ok.grpcMessage);
        assert.equal(metric(svc, 'tracebridge_receiver_grpc_refused_calls_total', 'reason="message_too_large",receiver="otlp",transport="grpc"'), 1);
      });

      it('an HTTP/1.1 request on the gRPC port is held to max_request_body_size', async () => {
        const a = await http1Post(grpcPort, '/v1/traces', spans(200), PROTOBUF);
        assert.equal(a.status, 413);
        assert.match(a.body.toString('latin1'), /exceeds the limit of 8192 bytes/);
      });

      it('answers 503 with Retry-After over h2c and HTTP/1.1 on both ports when the pipeline refuses', async () => {
        await svc.shutdown();
        svc = await startService(config(`
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }`, '{ mode: refuse }'));
        receiver = svc.receivers.get('otlp') as OtlpReceiver;
        for (const port of [receiver.grpc!.port, receiver.http!.port]) {
          const answers: HttpAnswer[] = [await h2cRequest(port, '/v1/traces', spans(1), PROTOBUF), await http1Post(port, '/v1/traces', spans(1), PROTOBUF)];
          for (const a of answers) {
            assert.equal(a.status, 503, `HTTP/${a.version}`);
            assert.equal(a.headers['retry-after'], '2', `HTTP/${a.version}`);
          }
        }
      });
    });

    describe('first bytes', () => {
      it('serves clients that send their first bytes one at a time (gRPC and HTTP/1.1 on both ports)', async () => {
        const proxies = [new TrickleProxy(httpPort, 40, 5), new TrickleProxy(grpcPort, 40, 5)];
        try {
          const [toHttp, toGrpc] = await Promise.all(proxies.map((p) => p.listen()));
          await exportOne(new GrpcExporter({ url: `http://127.0.0.1:${toHttp}` }), 'slow-grpc');
          await exportOne(new ProtoExporter({ url: `http://127.0.0.1:${toGrpc}/v1/traces` }), 'slow-http');
          const core = await pythonCalls(toHttp!, TRACE_EXPORT, spans(1, 'slow-core'));
          assert.deepEqual(core, [{ code: 'OK', details: '' }]);
        } finally {
          await Promise.all(proxies.map((p) => p.close()));
        }
        await sink().waitForSpans(3);
        assert.deepEqual(names().sort(), ['slow-core0', 'slow-grpc', 'slow-http']);
      });

      it('closes an HTTP/2 connection the client ended (FIN) on both ports, as a gRPC port always did', async () => {
        const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
        for (const port of [httpPort, grpcPort]) {
          const answer = await Promise.race([rawExchange(port, Buffer.concat([PREFACE, settings]), true), sleep(3000).then(() => 'still open after 3 s')]);
          assert.notEqual(answer, 'still open after 3 s');
        }
      });

      it('answers garbage first bytes with an HTTP/1.1 400 on both ports and keeps serving', async () => {
        for (const port of [grpcPort, httpPort]) {
          // Binary junk, a line that is not HTTP, and a preface that goes wrong after 19 bytes.
          for (const garbage of [Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 13, 10, 13, 10]), Buffer.from('HELLO\r\n\r\n'), Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n')]) {
            const answer = await rawExchange(port, garbage);
            assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/, JSON.stringify(garbage.toString('latin1')));
          }
        }
        await exportOne(new GrpcExporter({ url: `http://127.0.0.1:${httpPort}` }), 'after-garbage');
        await sink().waitForSpans(1);
      });
    });

    it('shutdown closes HTTP/1.1 connections on the gRPC port and HTTP/2 connections on the HTTP port', async () => {
      const agent = new Agent({ keepAlive: true });
      const h1Sockets: Socket[] = [];
      await new Promise<void>((resolve, reject) => {
        const req = http1Request({ host: '127.0.0.1', port: grpcPort, path: '/v1/traces', method: 'POST', agent, headers: PROTOBUF }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('socket', (s) => h1Sockets.push(s));
        req.on('error', reject);
        req.end(spans(1));
      });
      const session = await openH2(httpPort);
      const h2Closed = new Promise<void>((r) => session.once('close', () => r()));
      const h1Closed = new Promise<void>((r) => h1Sockets[0]!.once('close', () => r()));
      const pending = connect(httpPort, '127.0.0.1');
      pending.on('error', () => undefined);
      const pendingClosed = new Promise<void>((r) => pending.once('close', () => r()));
      await new Promise<void>((r) => pending.once('connect', () => r()));
      pending.write('PRI');
      await sleep(50);
      const started = Date.now();
      await svc.shutdown();
      await Promise.all([h1Closed, h2Closed, pendingClosed]);
      assert.ok(Date.now() - started < 3000, 'idle connections were left to the grace period');
      agent.destroy();
    });
  });

  describe('configuration', () => {
    afterEach(() => svc.shutdown());

    it('both sections naming the same endpoint: bound once, serving both protocols', async () => {
      const port = await freePort();
      svc = await startService(config(`
      grpc: { endpoint: 127.0.0.1:${port} }
      http: { endpoint: 127.0.0.1:${port} }`));
      receiver = svc.receivers.get('otlp') as OtlpReceiver;
      assert.equal(receiver.grpc!.port, port);
      assert.equal(receiver.http!.port, port);
      assert.equal(metric(svc, 'tracebridge_receiver_bind_failures_total', 'receiver="otlp",transport="grpc"'), 0);
      assert.equal(metric(svc, 'tracebridge_receiver_bind_failures_total', 'receiver="otlp",transport="http"'), 0);
      await exportOne(new GrpcExporter({ url: `http://127.0.0.1:${port}` }), 'grpc');
      await exportOne(new ProtoExporter({ url: `http://127.0.0.1:${port}/v1/traces` }), 'http');
      await sinks.get('sink')!.waitForSpans(2);
      assert.deepEqual(names(), ['grpc', 'http']);
    });

    it('only the http section: its endpoint alone is bound and serves gRPC too, with the gRPC defaults', async () => {
      svc = await startService(config(`
      http: { endpoint: 127.0.0.1:0 }`));
      receiver = svc.receivers.get('otlp') as OtlpReceiver;
      assert.equal(receiver.grpc, undefined);
      const port = receiver.http!.port;
      await exportOne(new GrpcExporter({ url: `http://127.0.0.1:${port}` }), 'grpc');
      await sinks.get('sink')!.waitForSpans(1);
      // The default max_recv_msg_size_mib, 4.
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(5 * MiB, 1);
      const a = await call(port, TRACE_EXPORT, prefix);
      assert.equal(a.grpcMessage, `Received message larger than max (${5 * MiB} vs. ${4 * MiB})`);
      assert.equal((await call(port, LOGS_EXPORT, grpcFrame(OPAQUE))).grpcStatus, Status.OK);
    });

    it('only the grpc section: its endpoint alone is bound and serves OTLP/HTTP too, with the HTTP defaults', async () => {
      svc = await startService(config(`
      grpc: { endpoint: 127.0.0.1:0 }`));
      receiver = svc.receivers.get('otlp') as OtlpReceiver;
      assert.equal(receiver.http, undefined);
      const port = receiver.grpc!.port;
      await exportOne(new ProtoExporter({ url: `http://127.0.0.1:${port}/v1/traces` }), 'http');
      await sinks.get('sink')!.waitForSpans(1);
      // The default limit, 20 MiB: 10 KiB pass.
      assert.equal((await http1Post(port, '/v1/traces', spans(300), PROTOBUF)).status, 200);
      assert.equal((await http1Post(port, '/v1/metrics', OPAQUE, PROTOBUF)).status, 200);
    });
  });

  describe('a connection whose first bytes do not come', () => {
    let direct: OtlpReceiver;
    const consumer = new SinkExporter();

    beforeEach(async () => {
      const metrics = new MetricsRegistry();
      direct = new OtlpReceiver(
        { id: 'otlp', kind: 'receiver', logger: silentLogger, metrics },
        { protocols: { grpc: { ...grpcConfig.defaultValue, endpoint: '127.0.0.1:0' }, http: { ...httpConfig.defaultValue, endpoint: '127.0.0.1:0' } } },
        { traces: consumer },
        { firstBytesTimeoutMs: 400 },
      );
      await direct.start();
    });
    afterEach(() => direct.shutdown());

    it('is closed after the timeout when it sent 3 bytes and stalls, and does not hold up others meanwhile', async () => {
      for (const port of [direct.http!.port, direct.grpc!.port]) {
        const stalled = connect(port, '127.0.0.1');
        stalled.on('error', () => undefined);
        let closedAt = 0;
        const closed = new Promise<void>((r) =>
          stalled.once('close', () => {
            closedAt = Date.now();
            r();
          }),
        );
        await new Promise<void>((r) => stalled.once('connect', () => r()));
        const sentAt = Date.now();
        stalled.write('PRI');
        const before = consumer.spanCount();
        await exportOne(new GrpcExporter({ url: `http://127.0.0.1:${port}` }), 'while-stalled');
        assert.equal((await http1Post(port, '/v1/traces', spans(1), PROTOBUF)).status, 200);
        await consumer.waitForSpans(before + 2);
        assert.equal(stalled.destroyed, false, 'closed before the timeout');
        await closed;
        assert.ok(closedAt - sentAt >= 350, `closed after ${closedAt - sentAt} ms`);
      }
    });

    it('is closed after the timeout when it sent nothing', async () => {
      const silent = connect(direct.grpc!.port, '127.0.0.1');
      silent.on('error', () => undefined);
      await new Promise<void>((r) => silent.once('close', () => r()));
    });
  });
});

function openH2(port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = h2connect(`http://127.0.0.1:${port}`);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** A request on an open session, its body sent without content-length. */
function sessionRequest(session: ClientHttp2Session, path: string, body: Buffer, headers: Record<string, string>): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': path, ...headers });
    const chunks: Buffer[] = [];
    const head: Record<string, string> = {};
    stream.on('response', (h) => {
      for (const [k, v] of Object.entries(h)) head[k] = String(v);
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', () => undefined);
    stream.on('close', () => {
      if (head[':status'] === undefined) reject(new Error(`no answer (RST_STREAM ${stream.rstCode})`));
      else resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks), version: '2' });
    });
    stream.end(body);
  });
}

/** Sends `bytes` (and FIN with `end`) on a new connection; resolves with what came back before the server closed it. */
function rawExchange(port: number, bytes: Buffer, end = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => (end ? s.end(bytes) : s.write(bytes)));
    let got = '';
    s.on('data', (c: Buffer) => (got += c.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => resolve(got));
  });
}
