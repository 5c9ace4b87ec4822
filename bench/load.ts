// Open-loop load: requests leave at a fixed rate whatever the target's latency (a closed loop
// would slow down with the target and hide its limits). Latency is measured per request.
import * as grpc from '@grpc/grpc-js';
import { Agent, request } from 'node:http';
import { createSocket } from 'node:dgram';
import { connect, constants as h2 } from 'node:http2';
import { gzipSync } from 'node:zlib';
import { TRACE_EXPORT } from '../sidecar/receivers/otlp/grpc.ts';
import type { Shape } from './shapes.ts';

export type Transport = 'grpc' | 'http' | 'http-gzip' | 'zipkin' | 'xray-udp';

export interface LoadResult {
  targetSpansPerSec: number;
  sentSpans: number;
  okSpans: number;
  refusedRequests: number;
  /** Requests the generator could not send because too many were in flight (target too slow). */
  skippedRequests: number;
  achievedSpansPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

const TICK_MS = 5;
const MAX_INFLIGHT = 512;

export interface Sender {
  send(body: Buffer, done: (ok: boolean) => void): void;
  close(): void;
}

/**
 * A unary gRPC client on node:http2: the load generator must cost less than what it measures, and
 * grpc-js's client costs about as much per call as a whole sidecar on its core. Wire format as in
 * sidecar/receivers/otlp/grpc-h2.ts; an answer is OK when grpc-status is 0.
 */
export function grpcSender(port: number): Sender {
  const session = connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  const headers = {
    [h2.HTTP2_HEADER_METHOD]: 'POST',
    [h2.HTTP2_HEADER_PATH]: TRACE_EXPORT,
    [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
    te: 'trailers',
  };
  const framed = new Map<Buffer, Buffer>();
  return {
    send(body, done) {
      let frame = framed.get(body);
      if (frame === undefined) {
        frame = Buffer.allocUnsafe(5 + body.length);
        frame[0] = 0;
        frame.writeUInt32BE(body.length, 1);
        body.copy(frame, 5);
        framed.set(body, frame);
      }
      let status: string | undefined;
      const req = session.request(headers);
      req.on('response', (h) => {
        if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
      });
      req.on('trailers', (t) => {
        status = String(t['grpc-status']);
      });
      req.on('data', () => undefined);
      req.on('close', () => done(status === '0'));
      req.on('error', () => undefined);
      req.end(frame);
    },
    close: () => session.close(),
  };
}

export function grpcJsSender(port: number): Sender {
  const raw = (b: Buffer) => b;
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 * 1024 * 1024 });
  return {
    send(body, done) {
      client.makeUnaryRequest(TRACE_EXPORT, raw, raw, body, { deadline: Date.now() + 10_000 }, (err) => done(err === null));
    },
    close: () => client.close(),
  };
}

/** Zipkin v2 JSON over HTTP, as Envoy posts it (202 on success). */
export function zipkinSender(port: number): Sender {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  return {
    send(body, done) {
      const req = request(
        { host: '127.0.0.1', port, path: '/api/v2/spans', method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } },
        (res) => {
          res.resume();
          res.on('end', () => done(res.statusCode === 202));
        },
      );
      req.on('error', () => done(false));
      req.end(body);
    },
    close: () => agent.destroy(),
  };
}

/** X-Ray daemon protocol: fire-and-forget UDP datagrams (delivery is checked at the sink). */
export function xrayUdpSender(port: number): Sender {
  const socket = createSocket('udp4');
  return {
    send(body, done) {
      socket.send(body, port, '127.0.0.1', (err) => done(err === null));
    },
    close: () => socket.close(),
  };
}

export function httpSender(port: number, gzip: boolean): Sender {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const cache = new Map<Buffer, Buffer>();
  return {
    send(body, done) {
      let payload = body;
      if (gzip) {
        payload = cache.get(body) ?? gzipSync(body);
        cache.set(body, payload);
      }
      const headers: Record<string, string> = { 'Content-Type': 'application/x-protobuf', 'Content-Length': String(payload.length) };
      if (gzip) headers['Content-Encoding'] = 'gzip';
      const req = request({ host: '127.0.0.1', port, path: '/v1/traces', method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode === 200));
      });
      req.on('error', () => done(false));
      req.end(payload);
    },
    close: () => agent.destroy(),
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Sends `spansPerSec` for `durationMs`, then waits for answers in flight (at most 10 s). */
export function runLoad(sender: Sender, shape: Shape, spansPerSec: number, durationMs: number): Promise<LoadResult> {
  const requestsPerMs = spansPerSec / shape.spansPerRequest / 1000;
  const latencies: number[] = [];
  let due = 0;
  let sent = 0;
  let ok = 0;
  let refused = 0;
  let skipped = 0;
  let inflight = 0;
  let next = 0;
  const start = performance.now();
  return new Promise((resolve) => {
    const finish = () => {
      const elapsed = (performance.now() - start) / 1000;
      const sorted = Float64Array.from(latencies).sort();
      resolve({
        targetSpansPerSec: spansPerSec,
        sentSpans: sent * shape.spansPerRequest,
        okSpans: ok * shape.spansPerRequest,
        refusedRequests: refused,
        skippedRequests: skipped,
        achievedSpansPerSec: Math.round((ok * shape.spansPerRequest) / Math.max(elapsed, durationMs / 1000)),
        p50Ms: Number(percentile(sorted, 50).toFixed(2)),
        p99Ms: Number(percentile(sorted, 99).toFixed(2)),
      });
    };
    const timer = setInterval(() => {
      if (performance.now() - start >= durationMs) {
        clearInterval(timer);
        const waitStart = performance.now();
        const wait = setInterval(() => {
          if (inflight === 0 || performance.now() - waitStart > 10_000) {
            clearInterval(wait);
            finish();
          }
        }, 10);
        return;
      }
      // Due from elapsed time, not per tick: a late timer must not lower the offered rate.
      const target = Math.floor((performance.now() - start) * requestsPerMs);
      while (due < target) {
        due++;
        if (inflight >= MAX_INFLIGHT) {
          skipped++;
          continue;
        }
        const body = shape.requests[next++ % shape.requests.length]!;
        const t0 = performance.now();
        inflight++;
        sent++;
        sender.send(body, (good) => {
          inflight--;
          latencies.push(performance.now() - t0);
          if (good) ok++;
          else refused++;
        });
      }
    }, TICK_MS);
  });
}
