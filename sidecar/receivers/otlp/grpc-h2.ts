// A unary gRPC server on node:http2, just enough for OTLP's three Export methods.
//
// Why not grpc-js on the receiving side: per call, grpc-js runs its metadata, filter and call
// machinery, which the bench measured as most of the CPU of the OTLP/gRPC → OTLP path (OTLP/HTTP on
// node:http sustained ~4x the spans/s of OTLP/gRPC on grpc-js on one core). OTLP uses unary calls
// only, whose wire protocol is small (github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md):
//   request:  POST /<service>/<method>, content-type application/grpc[+proto], optional
//             grpc-encoding and grpc-timeout; body = one Length-Prefixed-Message: 1 byte
//             compressed flag, 4 bytes big-endian length, the message.
//   response: :status 200, content-type application/grpc, one Length-Prefixed-Message, then the
//             trailers grpc-status (0 = OK) and grpc-message (percent-encoded); an error is a
//             "Trailers-Only" response: the headers carry grpc-status and end the stream.
// The `otlp` exporter's client is node:http2 too (exporters/otlp/grpc-client.ts).
//
// Held to grpc-go's behaviour (the collector's server), and bounded:
// - a call is handed to its handler only once its stream ended cleanly (END_STREAM received, not
//   reset), and only if it is still open then: a call the client cancelled or that passed its
//   grpc-timeout is never ingested, so the client's retry cannot duplicate it;
// - the 5-byte prefix is checked as soon as it arrives: a message over the size limit, or one that
//   does not fit in the receiver's in-flight byte budget (shared by all connections), is refused
//   at once with RESOURCE_EXHAUSTED, before its bytes are buffered;
// - RST_STREAM for a stream a gRPC C-core client never opened is ignored (h2-frame-filter.ts),
//   connections without calls are closed after an idle time, and session errors are counted,
//   logged once per episode and never fatal.
// Requests on its connections that are not gRPC (OTLP/HTTP over h2c) go to the `http` handler
// when one is given (see GrpcH2Options.http).
import type { Http2Server, IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { parseHostPort } from '../../config/schema.ts';
import { createLogger, OnceWarning, type Logger } from '../../telemetry/logger.ts';
import { MetricsRegistry, type BoundCounter, type Labels } from '../../telemetry/metrics.ts';
import { DEFAULT_MAX_CONCURRENT_STREAMS, DEFAULT_MAX_CONNECTION_IDLE_MS, DEFAULT_MAX_INFLIGHT_SIZE_MIB } from './config.ts';
import { ACCEPT_ENCODING, decompressMessage, DecompressError, isSupportedEncoding } from './decompress.ts';
import { GrpcCode, parseGrpcTimeout, percentEncodeGrpcMessage } from '../../net/grpc-protocol.ts';
import { bind } from '../../net/listen.ts';
import { encodeRpcStatus, retryInfoDetail } from '../../net/rpc-status.ts';
import { IdleResetFilter } from './h2-frame-filter.ts';
import { FirstBytesReader } from './first-bytes.ts';

/** gRPC status codes used here. */

export class GrpcError extends Error {
  readonly code: number;
  /** Headers sent with the status, e.g. grpc-status-details-bin. */
  readonly metadata: Record<string, string> | undefined;

  constructor(code: number, message: string, metadata?: Record<string, string>) {
    super(message);
    this.name = 'GrpcError';
    this.code = code;
    this.metadata = metadata;
  }
}

/**
 * How long a client refused for lack of in-flight budget is asked to wait. The budget frees as the
 * calls in flight finish, usually within milliseconds; a second leaves the pipeline room to drain
 * without turning a burst into a retry storm.
 */
export const BUSY_RETRY_DELAY_MS = 1000;

/**
 * The answer to a call the in-flight budget cannot take: RESOURCE_EXHAUSTED, as grpc-go answers
 * for exhausted resources, with a RetryInfo in grpc-status-details-bin. Clients that follow the
 * OTLP specification (the collector's exporters, the OpenTelemetry Go SDK) retry
 * RESOURCE_EXHAUSTED only with a RetryInfo and would drop the spans without one.
 */
function busy(budget: InflightBudget): GrpcError {
  const message = `receiver busy: ${budget.used} bytes of requests in flight, limit ${budget.limit}; retry later`;
  const details = encodeRpcStatus({ code: GrpcCode.RESOURCE_EXHAUSTED, message, details: [retryInfoDetail(BUSY_RETRY_DELAY_MS)] });
  return new GrpcError(GrpcCode.RESOURCE_EXHAUSTED, message, { 'grpc-status-details-bin': details.toString('base64') });
}

/** Handles one request message; resolves with the response message or rejects with a GrpcError. */
export type UnaryHandler = (request: Buffer) => Promise<Buffer>;

/** Serves a request that is not gRPC, arrived on an HTTP/2 connection. */
export type Http2RequestHandler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]) => void;

export interface GrpcH2Options {
  /** Largest message, on the wire and after decompression. */
  maxMessageBytes: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS; more streams are refused by HTTP/2 itself (REFUSED_STREAM). */
  maxConcurrentStreams?: number;
  /**
   * HTTP/2 flow-control window offered to clients, per stream and per connection; node's 65,535
   * bytes when absent. The receiver keeps node's (each window is memory a client may fill before
   * the budget sees a call); the bench's sink stands in for a collector, whose grpc-go server
   * grows its windows up to 16 MiB from the measured bandwidth-delay product.
   */
  flowControlWindowBytes?: number;
  /** Declared message bytes of calls in flight, across all connections (at least one largest message). */
  maxInflightBytes?: number;
  /** A connection without calls for this long gets GOAWAY; 0 = never. */
  maxConnectionIdleMs?: number;
  metrics?: MetricsRegistry;
  logger?: Logger;
  /** Labels of this server's metrics, e.g. `{ receiver: 'otlp' }`. */
  labels?: Labels;
  /**
   * Requests that are not gRPC calls: content-type not `application/grpc...` and path not one of
   * the methods. Without it they are refused as grpc-go does (HTTP 415, INVALID_ARGUMENT).
   */
  http?: Http2RequestHandler;
  /** Time a new connection on `listen()`'s port has to send its first bytes (first-bytes.ts). */
  firstBytesTimeoutMs?: number;
}

// node:http2's constants, spelled out: the module loads with the first HTTP/2 connection
// (GrpcH2Server.h2Server says why), not to read these.
const HTTP2_HEADER_PATH = ':path';
const HTTP2_HEADER_METHOD = ':method';
const HTTP2_HEADER_CONTENT_TYPE = 'content-type';
const HTTP2_HEADER_STATUS = ':status';
const NGHTTP2_INTERNAL_ERROR = 2;
const MiB = 1024 * 1024;
// HTTP/2 flow-control windows stay at node:http2's defaults (64 KiB per stream and connection).
// Larger ones (256 KiB / 1 MiB) saved a few WINDOW_UPDATE frames per large request but let clients
// push the bytes of calls the in-flight budget refuses faster: under 20 concurrent 3 MiB calls the
// RSS peak rose from ~45 to ~70 MiB (grpc-memory.test.ts), with no CPU gain measurable end to end.
/** Longest timer node can arm (~24.8 days); a grpc-timeout beyond it is no deadline in practice. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A new episode of session errors (and a new warning) starts after this long without any. */
const SESSION_ERROR_EPISODE_GAP_MS = 60_000;

type RefusalReason = 'inflight_limit' | 'message_too_large' | 'deadline_exceeded';

interface TransportCounters {
  sessionErrors: (code: string) => void;
  refused: Record<RefusalReason, BoundCounter>;
  cancelled: BoundCounter;
  idleResetsIgnored: BoundCounter;
  idleClosed: BoundCounter;
}

interface CallLimits {
  maxMessageBytes: number;
  budget: InflightBudget;
  counters: TransportCounters;
}

interface SessionState {
  active: number;
  idleSince: number;
}

/** Request bytes held by calls in flight, shared by every connection of one server. */
class InflightBudget {
  used = 0;
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  tryReserve(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  release(n: number): void {
    this.used -= n;
  }
}

/**
 * Whether a content-type is gRPC, as grpc-go's grpcutil.ContentSubtype reads it: exactly
 * `application/grpc`, or followed by `+subtype` or `;params`. `application/grpc-web` is not.
 * Returns the subtype ('' for none), or undefined for a non-gRPC type.
 */
function grpcContentSubtype(contentType: string): string | undefined {
  const base = 'application/grpc';
  if (!contentType.toLowerCase().startsWith(base)) return undefined;
  if (contentType.length === base.length) return '';
  const next = contentType[base.length];
  if (next === ';') return '';
  if (next !== '+') return undefined;
  return contentType.slice(base.length + 1).split(';')[0]!.trim().toLowerCase();
}

export class GrpcH2Server {
  /** The HTTP/2 server, made with the first HTTP/2 connection (see h2Server()). */
  private server: Http2Server | undefined;
  private readonly maxConcurrentStreams: number;
  private readonly flowControlWindowBytes: number | undefined;
  private readonly listener: NetServer;
  private readonly handlers = new Map<string, UnaryHandler>();
  private readonly sessions = new Map<ServerHttp2Session, SessionState>();
  /** Every connection serving HTTP/2 (the sockets themselves, under any frame filter), until closed. */
  private readonly connections = new Set<Socket>();
  /** Connections on listen()'s port whose first bytes have not arrived yet. */
  private readonly firstBytes: FirstBytesReader;
  private readonly http: Http2RequestHandler | undefined;
  private closing = false;
  private readonly maxMessageBytes: number;
  private readonly budget: InflightBudget;
  private readonly maxIdleMs: number;
  private idleSweep: NodeJS.Timeout | undefined;
  private readonly logger: Logger;
  private readonly sessionErrorWarning: OnceWarning;
  private lastSessionError = -Infinity;
  /** What each call needs of the server, in one object made once. */
  private readonly limits: CallLimits;
  private readonly counters: TransportCounters;

  constructor(opts: GrpcH2Options) {
    this.maxMessageBytes = opts.maxMessageBytes;
    this.budget = new InflightBudget(Math.max(opts.maxInflightBytes ?? DEFAULT_MAX_INFLIGHT_SIZE_MIB * MiB, opts.maxMessageBytes));
    this.maxIdleMs = opts.maxConnectionIdleMs ?? DEFAULT_MAX_CONNECTION_IDLE_MS;
    this.logger = opts.logger ?? createLogger('silent');
    this.sessionErrorWarning = new OnceWarning(this.logger, 'gRPC client connections are failing (counted in tracebridge_receiver_grpc_session_errors_total)');
    this.counters = this.makeCounters(opts.metrics ?? new MetricsRegistry(), opts.labels ?? {});
    this.limits = { maxMessageBytes: this.maxMessageBytes, budget: this.budget, counters: this.counters };
    this.http = opts.http;
    this.firstBytes = new FirstBytesReader(opts.firstBytesTimeoutMs);

    this.maxConcurrentStreams = opts.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS;
    this.flowControlWindowBytes = opts.flowControlWindowBytes;
    // Connections on listen()'s own port: all taken for HTTP/2 (anything else fails as a session
    // error); the first bytes tell gRPC C-core clients apart.
    this.listener = createNetServer((socket) => this.firstBytes.read(socket, (kind, head) => this.acceptConnection(socket, head, kind === 'http2-grpc-core')));
  }

  /**
   * The HTTP/2 server, made on first use: node:http2 (with node:tls under it) costs an idle process
   * about 4.7 MiB of private memory and 13 MiB of RSS, and a pod whose app sends OTLP/HTTP never
   * opens an HTTP/2 connection. process.getBuiltinModule loads it synchronously; a built-in
   * cannot fail to load.
   */
  private h2Server(): Http2Server {
    if (this.server !== undefined) return this.server;
    const { createServer } = process.getBuiltinModule('node:http2');
    const server = createServer({
      settings: { maxConcurrentStreams: this.maxConcurrentStreams, ...(this.flowControlWindowBytes !== undefined ? { initialWindowSize: this.flowControlWindowBytes } : {}) },
      // Request bodies are bounded by the in-flight budget; this bounds nghttp2's own buffers.
      maxSessionMemory: 64,
    });
    server.on('stream', (stream, headers, _flags, rawHeaders) => this.onStream(stream, headers, rawHeaders));
    server.on('session', (session) => this.onSession(session));
    // A broken client connection must never take the process down.
    server.on('sessionError', (err) => this.onSessionError(err));
    this.server = server;
    return server;
  }

  /**
   * Serves an HTTP/2 connection whose first bytes (`head`, read from it already) were read by the
   * caller (first-bytes.ts). gRPC C-core clients, whose idle RST_STREAMs must be filtered, go
   * through the frame filter; the others are read natively by node:http2 (h2-frame-filter.ts says
   * why), with `head` put back for it.
   */
  acceptConnection(socket: Socket, head: Buffer, grpcCore: boolean): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    // HTTP/2 has no half-closed connections: the client's FIN ends it. (A node:http listener, such
    // as the receiver's endpoints, accepts its sockets half-open for HTTP/1.1.)
    socket.allowHalfOpen = false;
    this.connections.add(socket);
    socket.once('close', () => this.connections.delete(socket));
    if (grpcCore) {
      this.h2Server().emit('connection', new IdleResetFilter(socket, () => this.counters.idleResetsIgnored.add(1), head));
    } else {
      socket.unshift(head);
      this.h2Server().emit('connection', socket);
    }
  }

  /** Declared message bytes of the calls in flight now (the budget's use). */
  get inflightBytes(): number {
    return this.budget.used;
  }

  addMethod(path: string, handler: UnaryHandler): void {
    this.handlers.set(path, handler);
  }

  private makeCounters(metrics: MetricsRegistry, labels: Labels): TransportCounters {
    const refused = metrics.counter('tracebridge_receiver_grpc_refused_calls_total', 'gRPC calls refused by the transport before their handler, by reason.');
    const sessionErrors = metrics.counter('tracebridge_receiver_grpc_session_errors_total', 'gRPC client connections that ended with an error, by error code.');
    metrics.gauge('tracebridge_receiver_grpc_inflight_bytes', 'Declared message bytes of gRPC calls being received or handled.').collect(labels, () => this.budget.used);
    return {
      sessionErrors: (code) => sessionErrors.add(1, { ...labels, code }),
      refused: {
        inflight_limit: refused.bind({ ...labels, reason: 'inflight_limit' }),
        message_too_large: refused.bind({ ...labels, reason: 'message_too_large' }),
        deadline_exceeded: refused.bind({ ...labels, reason: 'deadline_exceeded' }),
      },
      cancelled: metrics.counter('tracebridge_receiver_grpc_cancelled_calls_total', 'gRPC calls reset or closed by the client before they were complete; never ingested.').bind(labels),
      idleResetsIgnored: metrics.counter('tracebridge_receiver_grpc_idle_resets_ignored_total', 'RST_STREAM frames for streams the client never opened, ignored as grpc-go does.').bind(labels),
      idleClosed: metrics.counter('tracebridge_receiver_grpc_idle_connections_closed_total', 'gRPC connections closed with GOAWAY after max_connection_idle without calls.').bind(labels),
    };
  }

  private onSession(session: ServerHttp2Session): void {
    // Started with the first connection, on listen()'s port or handed in by acceptConnection.
    if (this.idleSweep === undefined) this.startIdleSweep();
    const state: SessionState = { active: 0, idleSince: Date.now() };
    this.sessions.set(session, state);
    session.on('error', () => undefined);
    session.once('close', () => this.sessions.delete(session));
    // The connection's own window (SETTINGS only sets the streams'): a WINDOW_UPDATE once the
    // session is set up.
    const window = this.flowControlWindowBytes;
    if (window !== undefined) session.once('localSettings', () => session.setLocalWindowSize(window));
  }

  private onSessionError(err: Error): void {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    this.counters.sessionErrors(code);
    const now = Date.now();
    if (now - this.lastSessionError > SESSION_ERROR_EPISODE_GAP_MS) this.sessionErrorWarning.reset();
    this.lastSessionError = now;
    this.sessionErrorWarning.warn({ code, err: err.message });
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]): void {
    stream.on('error', () => undefined);
    const session = this.sessions.get(stream.session as ServerHttp2Session);
    if (session !== undefined) session.active++;
    const refusal = this.check(headers);
    if (refusal === 'http') {
      // Counted as a call: the idle sweep leaves its connection alone while it runs.
      if (session !== undefined) stream.on('close', () => streamClosed(session));
      this.http!(stream, headers, rawHeaders);
      return;
    }
    if (typeof refusal !== 'string') {
      if (session !== undefined) stream.on('close', () => streamClosed(session));
      earlyAnswer(stream, refusal.httpStatus, refusal.code, refusal.message);
      return;
    }
    const handler = this.handlers.get(headers[HTTP2_HEADER_PATH] as string)!;
    const encoding = ((headers['grpc-encoding'] as string | undefined) ?? 'identity').toLowerCase();
    const timeout = headers['grpc-timeout'] as string | undefined;
    const deadlineMs = timeout === undefined ? undefined : (parseGrpcTimeout(timeout) as number);
    // The call's own 'close' listener ends the session's count: one listener fewer per call.
    new UnaryCall(this.limits, stream, handler, encoding, deadlineMs, session);
  }

  /**
   * The checks and answers of grpc-go's http2Server.operateHeaders, in its order: a refusal, or
   * 'ok' for a call to read; or 'http' for a request that is not gRPC, to the `http` handler.
   */
  private check(headers: IncomingHttpHeaders): { httpStatus: number; code: number; message: string } | 'ok' | 'http' {
    const contentType = (headers[HTTP2_HEADER_CONTENT_TYPE]) ?? '';
    const subtype = contentType === 'application/grpc' ? '' : grpcContentSubtype(contentType);
    if (subtype === undefined) {
      // Not gRPC by its content type, nor by its path: a request to one of the methods with another
      // content type (gRPC-Web, JSON) keeps grpc-go's answer, which names the content type.
      if (this.http !== undefined && !this.handlers.has(headers[HTTP2_HEADER_PATH] as string)) return 'http';
      return { httpStatus: 415, code: GrpcCode.INVALID_ARGUMENT, message: `invalid gRPC request content-type ${JSON.stringify(contentType)}` };
    }
    const timeout = headers['grpc-timeout'] as string | undefined;
    if (timeout !== undefined) {
      const parsed = parseGrpcTimeout(timeout);
      if (typeof parsed === 'string') return { httpStatus: 400, code: GrpcCode.INTERNAL, message: `malformed grpc-timeout: ${parsed}` };
    }
    const method = headers[HTTP2_HEADER_METHOD];
    if (method !== 'POST') return { httpStatus: 405, code: GrpcCode.INTERNAL, message: `Received a HEADERS frame with :method ${JSON.stringify(method)} which should be POST` };
    if (subtype !== '' && subtype !== 'proto') {
      // grpc-go would decode it as protobuf anyway and fail with INTERNAL; say why instead.
      return { httpStatus: 200, code: GrpcCode.INTERNAL, message: `content-type ${contentType} is not supported: messages must be protobuf (application/grpc or application/grpc+proto)` };
    }
    const path = headers[HTTP2_HEADER_PATH];
    if (path === undefined || !this.handlers.has(path)) return { httpStatus: 200, code: GrpcCode.UNIMPLEMENTED, message: `unknown method ${path ?? ''}` };
    return 'ok';
  }

  listen(endpoint: string): Promise<number> {
    const hp = parseHostPort(endpoint);
    if (hp === undefined) return Promise.reject(new Error(`invalid endpoint ${endpoint}`));
    return bind(this.listener, hp.port, hp.host).then(() => (this.listener.address() as AddressInfo).port);
  }

  /**
   * One timer for all connections instead of one per connection per idle period: a connection
   * is closed between maxIdle and 1.25 × maxIdle after its last call ended.
   */
  private startIdleSweep(): void {
    if (this.maxIdleMs <= 0 || this.closing) return;
    this.idleSweep = setInterval(() => {
      const now = Date.now();
      for (const [session, state] of this.sessions) {
        if (state.active === 0 && now - state.idleSince >= this.maxIdleMs && !session.closed) {
          this.counters.idleClosed.add(1);
          session.close(); // GOAWAY (NO_ERROR): the client reconnects when it next has a call
        }
      }
    }, Math.max(10, Math.min(this.maxIdleMs / 4, 30_000)));
    this.idleSweep.unref();
  }

  /**
   * Stops accepting connections and sessions and resolves once every connection (on listen()'s
   * port or handed in by acceptConnection) is closed, whatever the clients do:
   * - every session gets GOAWAY: clients open no new streams, streams in flight finish;
   * - a connection is closed as soon as its session has no streams left and GOAWAY is sent. (A
   *   session closed gracefully by node:http2 only ends its side of the socket and waits for the
   *   client's FIN: an idle gRPC C-core channel sends it ~5 s later, a client that ignores GOAWAY
   *   never. Both would hold shutdown, and with it the flush of everything behind the receiver.)
   * - connections still open after `graceMs` (streams not finished in time) are destroyed.
   */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    clearInterval(this.idleSweep);
    const listenerClosed = this.listener.listening ? new Promise<void>((resolve) => this.listener.close(() => resolve())) : Promise.resolve();
    this.firstBytes.destroyPending();
    const sockets = [...this.connections];
    const socketsClosed = sockets.map((s) => (s.destroyed ? Promise.resolve() : new Promise<void>((resolve) => s.once('close', () => resolve()))));
    const sessionsClosed = [...this.sessions.keys()].map((s) => (s.destroyed ? Promise.resolve() : new Promise<void>((resolve) => s.once('close', () => resolve()))));
    const timer = setTimeout(() => {
      for (const s of sockets) s.destroy();
    }, graceMs);
    timer.unref();
    for (const s of sockets) {
      // node:http2 ends the socket once the session's last stream is done and GOAWAY is written.
      if (s.writableFinished) s.destroy();
      else s.once('finish', () => s.destroy());
    }
    // GOAWAY: clients stop opening streams; streams in flight finish.
    for (const s of this.sessions.keys()) s.close();
    await Promise.all([listenerClosed, ...socketsClosed, ...sessionsClosed]);
    clearTimeout(timer);
  }
}

/** A Length-Prefixed-Message holding the empty message. Only ever read. */
const EMPTY_MESSAGE_FRAME = Buffer.alloc(5);
const OK_HEADERS = Object.freeze({ [HTTP2_HEADER_STATUS]: 200, [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc', 'grpc-accept-encoding': ACCEPT_ENCODING });
const OK_TRAILERS = Object.freeze({ 'grpc-status': '0' });
const RESPOND_WITH_TRAILERS = Object.freeze({ waitForTrailers: true });

function sendOkTrailers(this: ServerHttp2Stream): void {
  this.sendTrailers(OK_TRAILERS);
}

function streamClosed(session: SessionState): void {
  if (--session.active === 0) session.idleSince = Date.now();
}

/** A Trailers-Only answer. */
function earlyAnswer(stream: ServerHttp2Stream, httpStatus: number, code: number, message: string, extra: Record<string, string> = {}): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close(NGHTTP2_INTERNAL_ERROR);
    return;
  }
  stream.respond(
    {
      [HTTP2_HEADER_STATUS]: httpStatus,
      [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      'grpc-status': String(code),
      'grpc-message': percentEncodeGrpcMessage(message),
      ...extra,
    },
    { endStream: true },
  );
  // Request bytes still to come are dropped as they arrive. No RST_STREAM after the answer (grpc-go
  // sends one when the client is still sending): node:http2 hands it to nghttp2 ahead of the queued
  // HEADERS, which are then never sent for a stream the client had half-closed. gRPC clients
  // stop sending and reset the stream themselves once they read the status.
  stream.resume();
}

/**
 * One call: reads the Length-Prefixed-Message into a buffer of its declared size (reserved in the
 * in-flight budget when the prefix arrives), then hands it to the handler once the stream ended
 * cleanly. Every exit releases the reservation exactly once.
 */
class UnaryCall {
  private readonly stream: ServerHttp2Stream;
  private readonly handler: UnaryHandler;
  private readonly encoding: string;
  private readonly limits: CallLimits;
  /** Bytes of a prefix split across chunks (rare: allocated only then). */
  private prefix: Buffer | undefined;
  private prefixFill = 0;
  private compressed = false;
  private length = -1;
  private message: Buffer | undefined;
  private filled = 0;
  private reserved = 0;
  /** Set once the call has its answer (or none is due any more): nothing else happens to it. */
  private settled = false;
  private handling = false;
  private deadline: NodeJS.Timeout | undefined;
  private readonly session: SessionState | undefined;

  constructor(limits: CallLimits, stream: ServerHttp2Stream, handler: UnaryHandler, encoding: string, deadlineMs: number | undefined, session: SessionState | undefined) {
    this.stream = stream;
    this.session = session;
    this.handler = handler;
    this.encoding = encoding;
    this.limits = limits;
    if (deadlineMs !== undefined && deadlineMs <= MAX_TIMER_MS) {
      this.deadline = setTimeout(() => this.onDeadline(), deadlineMs);
      this.deadline.unref();
    }
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => this.onEnd());
    stream.on('close', () => this.onClose());
  }

  private onData(chunk: Buffer): void {
    if (this.settled) return;
    let at = 0;
    if (this.length < 0) {
      // Per-call allocations show up as GC time in the bench: read the prefix in place when the
      // chunk holds all of it (nearly always).
      if (this.prefixFill === 0 && chunk.length >= 5) {
        this.prefixFill = 5;
        at = 5;
        if (!this.onPrefix(chunk)) return;
      } else {
        this.prefix ??= Buffer.allocUnsafe(5);
        const n = Math.min(5 - this.prefixFill, chunk.length);
        chunk.copy(this.prefix, this.prefixFill, 0, n);
        this.prefixFill += n;
        at = n;
        if (this.prefixFill < 5 || !this.onPrefix(this.prefix)) return;
      }
      if (chunk.length - at === this.length) {
        // The whole message in this chunk (the common case for small requests): no copy.
        this.message = chunk.subarray(at);
        this.filled = this.length;
        return;
      }
      this.message = Buffer.allocUnsafe(this.length);
    }
    const n = chunk.length - at;
    if (this.filled + n > this.length) {
      this.fail(GrpcCode.INTERNAL, `received more than the ${this.length}-byte message the prefix announced: a unary call carries exactly one message`);
      return;
    }
    chunk.copy(this.message!, this.filled, at);
    this.filled += n;
  }

  /** Checks the 5-byte prefix as grpc-go's recvMsg and checkRecvPayload do; true to read on. */
  private onPrefix(prefix: Buffer): boolean {
    const flag = prefix[0]!;
    const length = prefix.readUInt32BE(1);
    if (flag > 1) {
      this.fail(GrpcCode.INTERNAL, `received unexpected payload format ${flag}`);
      return false;
    }
    this.compressed = flag === 1;
    if (this.compressed) {
      if (this.encoding === 'identity') {
        this.fail(GrpcCode.INTERNAL, 'compressed flag set with identity or empty grpc-encoding');
        return false;
      }
      if (!isSupportedEncoding(this.encoding)) {
        this.fail(GrpcCode.UNIMPLEMENTED, `Decompressor is not installed for grpc-encoding ${JSON.stringify(this.encoding)}`, { 'grpc-accept-encoding': ACCEPT_ENCODING });
        return false;
      }
    }
    const { maxMessageBytes, budget, counters } = this.limits;
    if (length > maxMessageBytes) {
      counters.refused.message_too_large.add(1);
      this.fail(GrpcCode.RESOURCE_EXHAUSTED, `Received message larger than max (${length} vs. ${maxMessageBytes})`);
      return false;
    }
    if (!budget.tryReserve(length)) {
      counters.refused.inflight_limit.add(1);
      const e = busy(budget);
      this.fail(e.code, e.message, e.metadata);
      return false;
    }
    this.reserved = length;
    this.length = length;
    if (length === 0) this.message = Buffer.alloc(0);
    return true;
  }

  private onEnd(): void {
    if (this.settled) return;
    // 'end' also follows a reset (node pushes the end of the readable side when a stream closes):
    // only END_STREAM on a stream still open means the client sent the whole call.
    if (this.stream.closed || this.stream.aborted || this.stream.destroyed) {
      this.abandon();
      return;
    }
    if (this.length < 0) {
      this.fail(GrpcCode.INTERNAL, this.prefixFill === 0 ? 'request has no gRPC message' : 'request ended inside the gRPC message prefix');
      return;
    }
    if (this.filled < this.length) {
      this.fail(GrpcCode.INTERNAL, `request ended after ${this.filled} of the ${this.length} bytes its prefix announced`);
      return;
    }
    this.handling = true;
    this.run().catch((err: unknown) => {
      const e = err instanceof GrpcError ? err : new GrpcError(GrpcCode.INTERNAL, String(err));
      this.fail(e.code, e.message, e.metadata);
    });
  }

  private async run(): Promise<void> {
    let response: Buffer;
    try {
      const message = this.compressed ? await this.decompress(this.message!) : this.message!;
      this.message = undefined;
      // Reset or past its deadline while it was decompressed: the client has given up on it.
      if (this.settled || this.stream.closed || this.stream.destroyed) {
        this.abandon();
        return;
      }
      response = await this.handler(message);
    } finally {
      this.handling = false;
      this.release();
    }
    // Reset while the handler ran: the data is in; nobody is left to tell.
    if (this.settled || this.stream.closed || this.stream.destroyed) return;
    this.settle();
    // An OTLP success answer is nearly always the empty message: one shared frame, header and
    // trailer objects for all of them (node:http2 only reads them), no closure per call.
    let frame = EMPTY_MESSAGE_FRAME;
    if (response.length > 0) {
      frame = Buffer.allocUnsafe(5 + response.length);
      frame[0] = 0;
      frame.writeUInt32BE(response.length, 1);
      response.copy(frame, 5);
    }
    this.stream.respond(OK_HEADERS, RESPOND_WITH_TRAILERS);
    this.stream.on('wantTrailers', sendOkTrailers);
    this.stream.end(frame);
  }

  /** Decompresses, moving the reservation from the wire bytes to the decompressed ones. */
  private async decompress(wire: Buffer): Promise<Buffer> {
    const { maxMessageBytes, budget, counters } = this.limits;
    let message: Buffer;
    try {
      message = await decompressMessage(this.encoding, wire, maxMessageBytes);
    } catch (err) {
      if (!(err instanceof DecompressError)) throw err;
      if (!err.tooLarge) throw new GrpcError(GrpcCode.INTERNAL, err.message);
      counters.refused.message_too_large.add(1);
      throw new GrpcError(GrpcCode.RESOURCE_EXHAUSTED, `Received message larger than max (${err.message} vs. ${maxMessageBytes})`);
    }
    this.release();
    if (!budget.tryReserve(message.length)) {
      counters.refused.inflight_limit.add(1);
      throw busy(budget);
    }
    this.reserved = message.length;
    return message;
  }

  private onDeadline(): void {
    this.deadline = undefined;
    if (this.settled) return;
    this.limits.counters.refused.deadline_exceeded.add(1);
    this.fail(GrpcCode.DEADLINE_EXCEEDED, 'Deadline Exceeded');
  }

  private onClose(): void {
    if (this.session !== undefined) streamClosed(this.session);
    if (this.settled) return;
    // Closed without an answer: reset by the client or its connection went away.
    this.abandon();
  }

  /** The client gave up: no answer is due, the bytes are dropped now. */
  private abandon(): void {
    if (this.settled) return;
    this.limits.counters.cancelled.add(1);
    this.settle();
  }

  private fail(code: number, message: string, extra?: Record<string, string>): void {
    if (this.settled) return;
    this.settle();
    earlyAnswer(this.stream, 200, code, message, extra);
  }

  private settle(): void {
    this.settled = true;
    clearTimeout(this.deadline);
    this.message = undefined;
    // A running handler holds the message; its reservation ends when the handler does.
    if (!this.handling) this.release();
  }

  private release(): void {
    if (this.reserved === 0) return;
    this.limits.budget.release(this.reserved);
    this.reserved = 0;
  }
}

