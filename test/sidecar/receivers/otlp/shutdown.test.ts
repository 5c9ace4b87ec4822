// SIGTERM while gRPC clients keep their connections open: the sidecar process stops its receivers
// within their grace whatever the clients do (an idle gRPC C-core channel, a raw HTTP/2 client
// that never closes, grpc-js), then flushes the batch processor and drains the exporter: every
// accepted span reaches the backend and the process exits long before the drain deadline.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type ClientHttp2Session } from 'node:http2';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { TRACE_EXPORT } from '../../../../sidecar/pdata/otlp-grpc-paths.ts';
import { withRealNetwork } from '../../../support/delivery.ts';
import { HttpSink } from '../../../support/otlp-sinks.ts';
import type { Running } from '../../../support/process.ts';
import { tinySpans } from '../../../support/spans.ts';
import { PYTHON } from './testdata/python-client.ts';
import { sidecarConfig, startSidecar, terminate } from './testdata/sidecar-process.ts';

/** Far below the drain deadline (shutdown_timeout 25s), far above what a stop takes (~0.1s). */
const EXIT_WITHIN_MS = 5000;

const raw = (b: Buffer) => b;

/** gRPC length-prefixed message: uncompressed flag, 4-byte length, bytes. */
function grpcFrame(msg: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

/** Python grpcio: one Export call with stdin's request, prints its status, then idles with the channel open. */
const PY_IDLE = `
import sys, time, grpc
port, path = sys.argv[1], sys.argv[2]
req = sys.stdin.buffer.read()
ch = grpc.insecure_channel('127.0.0.1:' + port)
call = ch.unary_unary(path, request_serializer=lambda b: b, response_deserializer=lambda b: b)
call(req, timeout=5)
print('sent', flush=True)
time.sleep(120)
`;

/**
 * A node:http2 client whose connection never ends from its side: node:http2 answers GOAWAY by
 * ending the socket, so end() is made a no-op, as a client that ignores GOAWAY would have it.
 */
function neverClosing(port: number): ClientHttp2Session {
  const session = connect(`http://127.0.0.1:${port}`, {
    createConnection: () => {
      const socket = createConnection(port, '127.0.0.1');
      socket.end = () => socket;
      return socket;
    },
  });
  session.on('error', () => undefined);
  return session;
}


/** Exports 100 spans over gRPC on a connection that is never closed (destroyed by `cleanup`); resolves with the grpc-status. */
async function exportOnNeverClosing(port: number, cleanup: (() => void)[]): Promise<string> {
  const session = neverClosing(port);
  cleanup.push(() => session.destroy());
  return new Promise<string>((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': TRACE_EXPORT, 'content-type': 'application/grpc', te: 'trailers' });
    req.on('trailers', (t) => resolve(String(t['grpc-status'])));
    req.on('error', reject);
    req.resume();
    req.end(grpcFrame(tinySpans(100)));
  });
}
describe('otlp receiver: SIGTERM with client connections still open (sidecar process)', function () {
  this.timeout(45_000);
  withRealNetwork();
  let sink: HttpSink;
  let dir: string;
  let proc: Running | undefined;
  const cleanup: (() => void)[] = [];
  beforeEach(async () => {
    sink = await new HttpSink().start();
    dir = mkdtempSync(join(tmpdir(), 'tracebridge-shutdown-'));
  });
  afterEach(async () => {
    proc?.child.kill('SIGKILL');
    proc = undefined;
    for (const c of cleanup.splice(0)) c();
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function expectPromptStop(p: Running, spans = 100, duringStop?: () => Promise<void>): Promise<void> {
    const stopping = terminate(p);
    await duringStop?.();
    const { code, ms } = await stopping;
    // SHUTDOWN_TIMINGS=1 prints the time each stop took (the figures in the receiver README).
    if (process.env.SHUTDOWN_TIMINGS) process.stderr.write(`      exit ${ms} ms after SIGTERM, ${sink.spansReceived()} spans at the sink\n`);
    assert.equal(code, 0, p.stderr());
    assert.ok(ms < EXIT_WITHIN_MS, `exited ${ms} ms after SIGTERM (deadline is 25 s)\n${p.stderr()}`);
    assert.equal(sink.spansReceived(), spans, 'every accepted span reached the backend');
    assert.match(p.stderr(), /shutdown complete/);
  }

  it('python3 grpcio (gRPC C-core) whose channel stays open and idle', async () => {
    const s = await startSidecar(sidecarConfig(dir, sink.url));
    proc = s.proc;
    const py: ChildProcess = spawn(PYTHON, ['-c', PY_IDLE, String(s.grpcPort), TRACE_EXPORT], { stdio: ['pipe', 'pipe', 'inherit'] });
    cleanup.push(() => py.kill('SIGKILL'));
    py.stdin!.end(tinySpans(100));
    await new Promise<void>((resolve, reject) => {
      py.stdout!.on('data', (c: Buffer) => c.toString().includes('sent') && resolve());
      py.on('exit', (code) => reject(new Error(`python client exited ${code}`)));
    });
    assert.equal(sink.spansReceived(), 0, 'the batch processor still holds the spans');
    await expectPromptStop(proc);
  });

  it('a raw HTTP/2 client (node:http2) that never closes its connection', async () => {
    const s = await startSidecar(sidecarConfig(dir, sink.url));
    proc = s.proc;
    assert.equal(await exportOnNeverClosing(s.grpcPort, cleanup), '0');
    await expectPromptStop(proc);
  });

  it('on the HTTP port: an HTTP/2 client that never closes, a silent connection, and an HTTP/1.1 request in flight (finished, answered with Connection: close)', async () => {
    const s = await startSidecar(sidecarConfig(dir, sink.url));
    proc = s.proc;
    assert.equal(await exportOnNeverClosing(s.httpPort, cleanup), '0');
    // A connection that never sends its first bytes (its protocol is never known).
    const silent = createConnection(s.httpPort, '127.0.0.1');
    silent.on('error', () => undefined);
    cleanup.push(() => silent.destroy());
    await new Promise((r) => silent.once('connect', r));
    // An HTTP/1.1 request whose body is half sent when SIGTERM arrives.
    const body = tinySpans(10);
    const h1 = createConnection(s.httpPort, '127.0.0.1');
    h1.on('error', () => undefined);
    cleanup.push(() => h1.destroy());
    let answer = '';
    h1.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    const h1Ended = new Promise((r) => h1.once('end', r));
    await new Promise((r) => h1.once('connect', r));
    h1.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${body.length}\r\n\r\n`);
    h1.write(body.subarray(0, 20));
    await new Promise((r) => setTimeout(r, 100));
    await expectPromptStop(proc, 110, async () => {
      await new Promise((r) => setTimeout(r, 200));
      h1.write(body.subarray(20));
      await h1Ended;
    });
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.match(answer, /\r\nconnection: close\r\n/i);
  });

  it('grpc-js with its channel left open', async () => {
    const s = await startSidecar(sidecarConfig(dir, sink.url));
    proc = s.proc;
    const client = new grpc.Client(`127.0.0.1:${s.grpcPort}`, grpc.credentials.createInsecure());
    cleanup.push(() => client.close());
    await new Promise<void>((resolve, reject) =>
      client.makeUnaryRequest(TRACE_EXPORT, raw, raw, tinySpans(100), (err) => (err ? reject(err) : resolve())),
    );
    await expectPromptStop(proc);
  });
});
