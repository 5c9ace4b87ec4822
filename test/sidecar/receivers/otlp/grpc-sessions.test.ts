// Connection-level behaviour of the gRPC server: idle connections closed, session errors counted
// and warned about once per episode, ignored idle resets and refusals visible in metrics.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { GrpcH2Server } from '../../../../sidecar/receivers/otlp/grpc-h2.ts';
import { createLogger } from '../../../../sidecar/telemetry/logger.ts';
import { MetricsRegistry } from '../../../../sidecar/telemetry/metrics.ts';
import { GRPC_CORE_SETTINGS, RawH2Connection, dataFrame, grpcMessage, grpcRequestHeaders, headersFrame, rstStreamFrame } from './testdata/raw-h2.ts';
import { call, grpcFrame, openSession, startCall } from './testdata/h2-call.ts';

const PATH = '/test.Service/Export';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('otlp receiver gRPC sessions', () => {
  let server: GrpcH2Server;
  let port: number;
  let metrics: MetricsRegistry;
  let lines: string[];

  beforeEach(async () => {
    metrics = new MetricsRegistry();
    lines = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().trim().split('\n'));
        done();
      },
    });
    server = new GrpcH2Server({ maxMessageBytes: 1024 * 1024, maxConnectionIdleMs: 200, metrics, logger: createLogger('info', sink), labels: { receiver: 'otlp' } });
    server.addMethod(PATH, () => Promise.resolve(Buffer.alloc(0)));
    port = await server.listen('127.0.0.1:0');
  });
  afterEach(() => server.close(100));

  const value = (name: string, labels: string) => {
    const line = metrics
      .render()
      .split('\n')
      .find((l) => l.startsWith(`${name}{${labels}}`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };

  it('closes a connection without calls after max_connection_idle with GOAWAY, never one with a call open', async () => {
    const busy = await openSession(port);
    const idle = await openSession(port);
    const goaways: string[] = [];
    busy.on('goaway', () => goaways.push('busy'));
    idle.on('goaway', () => goaways.push('idle'));
    assert.equal((await startCall(idle, PATH, grpcFrame(Buffer.alloc(3))).answer).grpcStatus, 0);
    const held = startCall(busy, PATH, grpcFrame(Buffer.alloc(3)).subarray(0, 4), { end: false });
    await sleep(600);
    assert.deepEqual([...new Set(goaways)], ['idle']); // a graceful close may send two GOAWAY frames
    assert.equal(value('tracebridge_receiver_grpc_idle_connections_closed_total', 'receiver="otlp"'), 1);
    held.stream.end(grpcFrame(Buffer.alloc(3)).subarray(4));
    assert.equal((await held.answer).grpcStatus, 0);
    busy.close();
    idle.close();
  });

  it('counts session errors and warns once per episode; the server keeps serving', async () => {
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve) => {
        const s = connect(port, '127.0.0.1', () => s.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
        s.on('close', () => resolve());
        s.on('error', () => undefined);
        s.resume();
      });
    }
    await sleep(50);
    const errors = metrics
      .render()
      .split('\n')
      .filter((l) => l.startsWith('tracebridge_receiver_grpc_session_errors_total{'));
    assert.equal(errors.reduce((n, l) => n + Number(l.split(' ').at(-1)), 0), 3, errors.join('\n'));
    const warnings = lines.filter((l) => l.includes('gRPC client connections are failing'));
    assert.equal(warnings.length, 1, lines.join('\n'));
    assert.equal((await call(port, PATH, grpcFrame(Buffer.alloc(1)))).grpcStatus, 0);
  });

  it('counts ignored idle resets, refusals and cancelled calls, and returns to zero bytes in flight', async () => {
    const c = await RawH2Connection.open(port, GRPC_CORE_SETTINGS);
    c.send(rstStreamFrame(7));
    c.send(headersFrame(1, grpcRequestHeaders(PATH)));
    c.send(dataFrame(1, grpcMessage(Buffer.alloc(100)).subarray(0, 50)));
    await sleep(50);
    assert.equal(server.inflightBytes, 100);
    c.send(rstStreamFrame(1));
    const big = Buffer.alloc(5);
    big.writeUInt32BE(2 * 1024 * 1024, 1);
    c.send(headersFrame(3, grpcRequestHeaders(PATH)));
    c.send(dataFrame(3, big));
    await c.waitFor(() => c.ended(3) !== undefined, 3000, 'the refusal');
    c.close();
    await sleep(50);
    assert.equal(value('tracebridge_receiver_grpc_idle_resets_ignored_total', 'receiver="otlp"'), 1);
    assert.equal(value('tracebridge_receiver_grpc_cancelled_calls_total', 'receiver="otlp"'), 1);
    assert.equal(value('tracebridge_receiver_grpc_refused_calls_total', 'reason="message_too_large",receiver="otlp"'), 1);
    assert.equal(value('tracebridge_receiver_grpc_inflight_bytes', 'receiver="otlp"'), 0);
    assert.equal(server.inflightBytes, 0);
  });
});
