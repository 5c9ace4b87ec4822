// Real OTLP backends for exporter tests: a gRPC server and an HTTP server on 127.0.0.1 that record
// every request (bytes, headers, arrival time) and answer from a script: success, partial
// success, any gRPC status (with RetryInfo) or HTTP status (with Retry-After), after a delay.
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { countSpans } from '../../sidecar/pdata/wire.ts';
import { freePorts } from '../../bench/ports.ts';

export type Signal = 'traces' | 'metrics' | 'logs';

export interface Received {
  signal: Signal;
  /** The request message, decompressed. */
  bytes: Buffer;
  /** Lower-cased header names; gRPC metadata rendered as strings. */
  headers: Record<string, string>;
  /** HTTP only: the body as sent (possibly compressed), for signature checks. */
  wire?: Buffer;
  method?: string;
  url?: string;
  at: number;
}

/** Server TLS for a sink; with `ca`, clients must present a certificate signed by it (mTLS). */
export interface SinkTls {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

export type Reply =
  | { kind: 'ok'; rejected?: number; message?: string; delayMs?: number }
  | { kind: 'grpc-error'; code: number; message?: string; retryInfoMs?: number; delayMs?: number }
  | { kind: 'http-error'; status: number; retryAfter?: string; body?: Buffer; delayMs?: number }
  | { kind: 'hang' };

/** A free loopback port (bound then released) so a test can start a backend "later". */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

export { freePorts };

/** A TCP relay that counts the bytes a client sends through it (to see compression on the wire). */
export class CountingProxy {
  bytesUp = 0;
  private readonly sockets = new Set<Socket>();
  private server = createNetServer((client) => {
    const upstream = connect(this.target, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    client.on('data', (c: Buffer) => (this.bytesUp += c.length));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  private readonly target: number;
  port = 0;

  constructor(target: number) {
    this.target = target;
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

abstract class Sink {
  readonly received: Received[] = [];
  /** Replies used in order; when empty, `fallback`. */
  script: Reply[] = [];
  fallback: Reply = { kind: 'ok' };
  protected hung: (() => void)[] = [];
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  protected nextReply(): Reply {
    return this.script.shift() ?? this.fallback;
  }

  protected record(r: Received): void {
    this.received.push(r);
    this.waiters = this.waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  }

  /** Spans in every traces request received (including refused ones). */
  spansReceived(): number {
    return this.received.filter((r) => r.signal === 'traces').reduce((n, r) => n + countSpans(r.bytes), 0);
  }

  /** Resolves once `check()` holds (checked on each request and every 10ms); rejects after `ms`. */
  waitUntil(check: () => boolean, ms = 8000, what = 'condition'): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        clearInterval(poll);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what} (received ${this.received.length} requests)`));
      }, ms);
      const poll = setInterval(() => {
        if (check()) {
          done();
          resolve();
        }
      }, 10);
      this.waiters.push({
        check,
        resolve: () => {
          done();
          resolve();
        },
      });
    });
  }

  waitForRequests(n: number, ms?: number): Promise<void> {
    return this.waitUntil(() => this.received.length >= n, ms, `${n} requests`);
  }

  /** Lets hanging requests go (answered ok). */
  releaseHung(): void {
    for (const h of this.hung.splice(0)) h();
  }

  protected async delay(reply: Reply): Promise<void> {
    if (reply.kind === 'hang') {
      await new Promise<void>((r) => this.hung.push(r));
      return;
    }
    if (reply.delayMs) await sleep(reply.delayMs);
  }
}

const raw = (b: Buffer) => b;

function method(path: string): grpc.MethodDefinition<Buffer, Buffer> {
  return { path, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw };
}

/** OTLP/gRPC Export method paths by signal. */
export const EXPORT_PATH: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

/** google.rpc.Status with one RetryInfo detail, encoded by hand (field numbers in otlp-response.ts). */
export function statusWithRetryInfo(code: number, message: string, delayMs: number): Buffer {
  const varint = (n: number) => {
    const out: number[] = [];
    while (n >= 128) {
      out.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return Buffer.from(out);
  };
  const len = (field: number, b: Buffer) => Buffer.concat([varint((field << 3) | 2), varint(b.length), b]);
  const duration = Buffer.concat([varint(1 << 3), varint(Math.floor(delayMs / 1000)), varint(2 << 3), varint((delayMs % 1000) * 1e6)]);
  const retryInfo = len(1, duration);
  const any = Buffer.concat([len(1, Buffer.from('type.googleapis.com/google.rpc.RetryInfo')), len(2, retryInfo)]);
  return Buffer.concat([varint(1 << 3), varint(code), len(2, Buffer.from(message)), len(3, any)]);
}

/** ExportTraceServiceResponse with partial_success (same shape for metrics and logs). */
export function partialSuccessResponse(rejected: number, message: string): Buffer {
  const msg = Buffer.from(message);
  const inner = Buffer.concat([Buffer.from([0x08, rejected]), Buffer.from([0x12, msg.length]), msg]);
  return Buffer.concat([Buffer.from([0x0a, inner.length]), inner]);
}

export class GrpcSink extends Sink {
  private server: grpc.Server | undefined;
  port = 0;

  /** @param host another loopback address (127.0.0.2) stands in for a collector elsewhere in the cluster. */
  async start(port = 0, tls?: SinkTls, host = '127.0.0.1'): Promise<this> {
    const server = new grpc.Server();
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      server.addService({ Export: method(EXPORT_PATH[signal]) }, {
        Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k] = String(v);
          this.record({ signal, bytes: call.request, headers, at: Date.now() });
          const reply = this.nextReply();
          void this.delay(reply).then(() => {
            if (reply.kind === 'grpc-error') {
              const md = new grpc.Metadata();
              if (reply.retryInfoMs !== undefined) md.set('grpc-status-details-bin', statusWithRetryInfo(reply.code, reply.message ?? '', reply.retryInfoMs));
              cb({ code: reply.code, details: reply.message ?? 'scripted failure', metadata: md });
            } else if (reply.kind === 'ok' && (reply.rejected || reply.message)) {
              cb(null, partialSuccessResponse(reply.rejected ?? 0, reply.message ?? ''));
            } else {
              cb(null, Buffer.alloc(0));
            }
          });
        },
      });
    }
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        `${host}:${port}`,
        tls ? grpc.ServerCredentials.createSsl(tls.ca ?? null, [{ cert_chain: tls.cert, private_key: tls.key }], tls.ca !== undefined) : grpc.ServerCredentials.createInsecure(),
        (err, p) => (err ? reject(err) : resolve(p)),
      ),
    );
    this.server = server;
    return this;
  }

  stop(): Promise<void> {
    this.releaseHung();
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return Promise.resolve();
    server.forceShutdown();
    return Promise.resolve();
  }
}

const SIGNAL_OF_PATH: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };

export class HttpSink extends Sink {
  private server: Server | undefined;
  port = 0;
  /** TCP connections accepted (keep-alive reuses one). */
  connections = 0;
  /** Requests answered 413 because of maxBodyBytes. */
  refusedTooLarge = 0;

  private scheme = 'http';
  /** Refuse bodies larger than this (decompressed) with 413, as a backend with a request limit does; unrecorded. */
  maxBodyBytes = Infinity;

  async start(port = 0, tls?: SinkTls, host = '127.0.0.1'): Promise<this> {
    this.host = host;
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const wire = Buffer.concat(chunks);
        const bytes = req.headers['content-encoding'] === 'gzip' ? gunzipSync(wire) : wire;
        if (bytes.length > this.maxBodyBytes) {
          this.refusedTooLarge++;
          res.writeHead(413, { 'Content-Type': 'text/plain' }).end(`request of ${bytes.length} bytes is over the limit of ${this.maxBodyBytes}`);
          return;
        }
        const path = (req.url ?? '').split('?')[0]!;
        const signal = SIGNAL_OF_PATH[path.replace(/^.*(\/v1\/\w+)$/, '$1')] ?? 'traces';
        this.record({ signal, bytes, wire, headers: flatten(req.headers), method: req.method, url: req.url, at: Date.now() });
        const reply = this.nextReply();
        void this.delay(reply).then(() => {
          if (reply.kind === 'http-error') {
            const headers: Record<string, string> = { 'Content-Type': 'application/x-protobuf' };
            if (reply.retryAfter !== undefined) headers['Retry-After'] = reply.retryAfter;
            res.writeHead(reply.status, headers).end(reply.body ?? Buffer.alloc(0));
          } else if (reply.kind === 'ok' && (reply.rejected || reply.message)) {
            const json = req.headers['content-type'] === 'application/json';
            res
              .writeHead(200, { 'Content-Type': json ? 'application/json' : 'application/x-protobuf' })
              .end(json ? JSON.stringify({ partialSuccess: { rejectedSpans: String(reply.rejected ?? 0), errorMessage: reply.message ?? '' } }) : partialSuccessResponse(reply.rejected ?? 0, reply.message ?? ''));
          } else {
            res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
          }
        });
      });
    };
    this.scheme = tls ? 'https' : 'http';
    const server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: tls.ca !== undefined, rejectUnauthorized: true }, handler) : createHttpServer(handler);
    server.on('connection', () => this.connections++);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  private host = '127.0.0.1';

  get url(): string {
    return `${this.scheme}://${this.host}:${this.port}`;
  }

  stop(): Promise<void> {
    this.releaseHung();
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

function flatten(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
