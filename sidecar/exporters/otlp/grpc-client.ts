// A unary gRPC client on node:http2, just enough for OTLP's Export calls (the exporter's side of
// receivers/otlp/grpc-h2.ts; wire protocol in github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md).
//
// Why not grpc-js: loading it costs every pod that exports OTLP/gRPC ~8 MiB of private memory, and
// per call it copies the message into a frame of its own (its compression filter's writeMessage:
// ~6% of the sidecar's busy CPU at 50k spans/s in a profile) on top of its metadata, filter and
// call machinery. Here the 5-byte prefix and the message are two writes of one stream, and the
// message is never copied.
//
// Held to what grpc-go's client accepts and reports (internal/transport/http2_client.go):
// - status from the trailers, or from the headers of a Trailers-Only response; grpc-message is
//   percent-decoded, grpc-status-details-bin kept (RetryInfo);
// - a response that is not gRPC (an HTTP error page from a proxy) is mapped from its :status as
//   doc/http-grpc-status-mapping.md says; a stream reset by the server from its RST_STREAM code
//   (after its response headers node:http2 hides the code: such a stream, like one that ends
//   without trailers, fails UNAVAILABLE, never a permanent status);
// - a connection that fails or closes under calls fails them UNAVAILABLE (retryable); after a
//   GOAWAY, new calls go to a new connection and the calls the server did not take (above its
//   last stream id, refused by nghttp2) fail UNAVAILABLE while the others complete;
// - one connection, made when the first call needs it and shared by all calls; calls arriving while
//   it connects wait for the same attempt, and after a failed attempt new ones fail at once for a
//   backoff period instead of each dialling again (the sending queue retries them);
// - the server's SETTINGS_MAX_CONCURRENT_STREAMS is respected: the first call waits for the
//   server's SETTINGS, and nghttp2 holds streams over the limit until one ends;
// - the deadline resets the stream (CANCEL) and fails DEADLINE_EXCEEDED; an abort, CANCELLED.
//   A call that hits its deadline also pings the connection: one that does not answer within the
//   timeout is dropped, so a server that vanished without a FIN does not hold every call after it.
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders, SecureClientSessionOptions } from 'node:http2';
import { gunzipAsync, gzipAsync } from '../../runtime/zlib.ts';
import { GrpcCode, formatGrpcTimeout, percentDecodeGrpcMessage } from '../../net/grpc-protocol.ts';
import { GrpcCallError } from './grpc-status.ts';

// node:http2's constants, spelled out: the module loads with the first call, not to read these.
const NGHTTP2_NO_ERROR = 0;
const NGHTTP2_REFUSED_STREAM = 7;
const NGHTTP2_CANCEL = 8;
const NGHTTP2_ENHANCE_YOUR_CALM = 11;
const NGHTTP2_FLAG_END_STREAM = 0x1;
/** node:http2's per-session memory cap for the client, in MB (see connect()). */
const CLIENT_SESSION_MEMORY_MB = 4096;

/**
 * RST_STREAM codes as gRPC statuses (PROTOCOL-HTTP2.md, "Errors"); unlisted codes are INTERNAL.
 * ENHANCE_YOUR_CALM (RESOURCE_EXHAUSTED, a throttle) has a branch of its own where resets are read.
 */
const RST_STREAM_STATUS: Record<number, number> = {
  [NGHTTP2_REFUSED_STREAM]: GrpcCode.UNAVAILABLE,
  [NGHTTP2_CANCEL]: GrpcCode.CANCELLED,
  12: GrpcCode.PERMISSION_DENIED, // INADEQUATE_SECURITY
};

/** HTTP statuses of a non-gRPC response (doc/http-grpc-status-mapping.md); others are UNKNOWN. */
const HTTP_STATUS: Record<number, number> = {
  400: GrpcCode.INTERNAL,
  401: GrpcCode.UNAUTHENTICATED,
  403: GrpcCode.PERMISSION_DENIED,
  404: GrpcCode.UNIMPLEMENTED,
  429: GrpcCode.UNAVAILABLE,
  502: GrpcCode.UNAVAILABLE,
  503: GrpcCode.UNAVAILABLE,
  504: GrpcCode.UNAVAILABLE,
};

/** Headers the transport owns: configured metadata never replaces them (node:http2 rejects the connection-specific ones). */
const RESERVED = new Set(['content-type', 'te', 'user-agent', 'grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

export interface GrpcClientOptions {
  /** host:port (an IPv6 literal in brackets). */
  target: string;
  /** TLS (ALPN h2) when set, else plaintext HTTP/2 (h2c, prior knowledge). */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean; servername?: string };
  userAgent: string;
  /** Request metadata; names are lower-cased, values of `-bin` names sent base64-encoded. */
  metadata?: Record<string, string>;
  /** gzip: request messages compressed (grpc-encoding gzip). */
  compression?: 'gzip' | 'none';
  /** Largest response message, on the wire and after decompression (grpc-go's default: 4 MiB). */
  maxReceiveBytes?: number;
  /** Reconnect backoff after a failed connection attempt: starts here, doubles per failure. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A connection attempt (TCP, TLS and the server's SETTINGS) longer than this fails. */
  connectTimeoutMs?: number;
}

/** What a call needs of its connection. */
interface Connection {
  session: ClientHttp2Session;
  /** Calls on it; the session keeps the process alive only while there are some. */
  active: number;
  /** Set once it closed, failed or got GOAWAY: no new calls. */
  done: boolean;
  /** Why it failed, when it did: calls it drops are told. */
  failure: string | undefined;
  pinging: boolean;
}

/** Failures of calls the server never saw: the client sends them again once, on a new connection (grpc-go's transparent retry). */
const NEVER_SENT = new WeakSet<GrpcCallError>();

function neverSent(err: GrpcCallError): GrpcCallError {
  NEVER_SENT.add(err);
  return err;
}

function unavailable(message: string, cause?: unknown): GrpcCallError {
  return new GrpcCallError(GrpcCode.UNAVAILABLE, message, { cause });
}

function header(h: IncomingHttpHeaders | undefined, name: string): string | undefined {
  const v = h?.[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export class GrpcH2Client {
  private readonly opts: GrpcClientOptions;
  private readonly authority: string;
  private readonly baseHeaders: Record<string, string>;
  private readonly maxReceiveBytes: number;
  private conn: Connection | undefined;
  private connecting: Promise<Connection> | undefined;
  /** After a failed attempt: until when new calls fail at once, and with what. */
  private backoffUntil = 0;
  private backoffMs = 0;
  private lastConnectError: GrpcCallError | undefined;
  private closed = false;
  private readonly connections = new Set<Connection>();

  constructor(opts: GrpcClientOptions) {
    this.opts = opts;
    this.authority = `${opts.tls ? 'https' : 'http'}://${opts.target}`;
    this.maxReceiveBytes = opts.maxReceiveBytes ?? 4 * 1024 * 1024;
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.metadata ?? {})) {
      const name = k.toLowerCase();
      if (name.startsWith(':') || RESERVED.has(name)) continue;
      h[name] = name.endsWith('-bin') ? Buffer.from(v, 'utf8').toString('base64') : v;
    }
    h[':method'] = 'POST';
    h['content-type'] = 'application/grpc';
    h.te = 'trailers';
    h['user-agent'] = opts.userAgent;
    h['grpc-accept-encoding'] = 'identity,gzip';
    if (opts.compression === 'gzip') h['grpc-encoding'] = 'gzip';
    this.baseHeaders = h;
  }

  /**
   * One unary call of `message` (an encoded request). Resolves with the response message; rejects
   * with a GrpcCallError for any status but OK.
   */
  async call(path: string, message: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    if (signal?.aborted) throw new GrpcCallError(GrpcCode.CANCELLED, 'call cancelled');
    const gzipped = this.opts.compression === 'gzip';
    const body = gzipped ? await gzipAsync(message) : message;
    for (let attempt = 0; ; attempt++) {
      const conn = await this.connection(deadline, signal);
      if (Date.now() >= deadline) throw new GrpcCallError(GrpcCode.DEADLINE_EXCEEDED, 'deadline exceeded before the call started');
      if (signal?.aborted) throw new GrpcCallError(GrpcCode.CANCELLED, 'call cancelled');
      try {
        return await new UnaryCall(this, conn, path, body, gzipped, deadline, signal).result;
      } catch (err) {
        if (attempt > 0 || !NEVER_SENT.has(err as GrpcCallError)) throw err;
      }
    }
  }

  /** Headers of one call. */
  requestHeaders(path: string, deadline: number): Record<string, string> {
    return { ...this.baseHeaders, ':path': path, 'grpc-timeout': formatGrpcTimeout(deadline - Date.now()) };
  }

  get maxReceive(): number {
    return this.maxReceiveBytes;
  }

  /** The shared connection, made (once for all waiting calls) when there is none usable. */
  private async connection(deadline: number, signal: AbortSignal | undefined): Promise<Connection> {
    if (this.closed) throw new GrpcCallError(GrpcCode.CANCELLED, 'client closed');
    const c = this.conn;
    if (c !== undefined && !c.done) return c;
    if (this.connecting === undefined) {
      if (Date.now() < this.backoffUntil && this.lastConnectError !== undefined) throw this.lastConnectError;
      this.connecting = this.connect().finally(() => (this.connecting = undefined));
    }
    // A call stops waiting at its deadline or abort; the attempt goes on for the others.
    const connecting = this.connecting;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new GrpcCallError(GrpcCode.DEADLINE_EXCEEDED, `deadline exceeded while connecting to ${this.opts.target}`)), Math.max(0, deadline - Date.now()));
      onAbort = () => reject(new GrpcCallError(GrpcCode.CANCELLED, 'call cancelled while connecting'));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([connecting, stop]);
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    }
  }

  private connect(): Promise<Connection> {
    const { connect } = process.getBuiltinModule('node:http2');
    const tls = this.opts.tls;
    // maxSessionMemory (MB): node:http2 resets its own new streams with ENHANCE_YOUR_CALM once more
    // than this is queued on the session, 10 MB by default: two or three of the exporter's 4 MiB
    // requests in flight. What a session holds is the requests of the exporter's consumers, which
    // its sending queue already bounds (sending_queue.max_bytes); this must never bind first.
    const options: SecureClientSessionOptions = { settings: { enablePush: false }, maxSessionMemory: CLIENT_SESSION_MEMORY_MB };
    if (tls !== undefined) {
      Object.assign(options, { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.rejectUnauthorized, ALPNProtocols: ['h2'] });
      if (tls.servername !== undefined) options.servername = tls.servername;
    }
    return new Promise<Connection>((resolve, reject) => {
      let session: ClientHttp2Session;
      try {
        session = connect(this.authority, options);
      } catch (err) {
        reject(this.connectFailed(`cannot connect to ${this.opts.target}: ${(err as Error).message}`, err));
        return;
      }
      const conn: Connection = { session, active: 0, done: false, failure: undefined, pinging: false };
      let settled = false;
      const timer = setTimeout(() => fail(new Error(`no HTTP/2 SETTINGS from the server within ${this.opts.connectTimeoutMs ?? 20_000}ms`)), this.opts.connectTimeoutMs ?? 20_000);
      timer.unref();
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        conn.done = true;
        session.destroy();
        reject(this.connectFailed(`cannot connect to ${this.opts.target}: ${err.message}`, err));
      };
      session.on('error', (err: Error) => {
        conn.failure ??= err.message;
        fail(err);
        this.retire(conn);
      });
      session.once('close', () => {
        conn.failure ??= 'connection closed';
        fail(new Error('connection closed before the server sent its SETTINGS'));
        this.retire(conn);
      });
      session.on('goaway', (code: number) => {
        conn.failure ??= `server sent GOAWAY (code ${code})`;
        this.retire(conn);
      });
      // Ready once the server's SETTINGS are in: its concurrent-stream limit then holds from the
      // first call (nghttp2 assumes 100 until then, and a server allowing fewer refuses the rest).
      session.once('remoteSettings', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.closed) {
          session.destroy();
          reject(new GrpcCallError(GrpcCode.CANCELLED, 'client closed'));
          return;
        }
        if (conn.active === 0) session.unref();
        this.backoffMs = 0;
        this.backoffUntil = 0;
        this.lastConnectError = undefined;
        this.conn = conn;
        this.connections.add(conn);
        resolve(conn);
      });
    });
  }

  private connectFailed(message: string, cause: unknown): GrpcCallError {
    const err = unavailable(message, cause);
    const initial = this.opts.initialBackoffMs ?? 1000;
    this.backoffMs = this.backoffMs === 0 ? initial : Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? 120_000);
    this.backoffUntil = Date.now() + this.backoffMs;
    this.lastConnectError = err;
    return err;
  }

  /** No new calls on `conn`; the calls on it finish or fail on their own. */
  retire(conn: Connection): void {
    conn.done = true;
    if (this.conn === conn) this.conn = undefined;
    if (conn.session.destroyed) this.connections.delete(conn);
  }

  /** A call starts on `conn`: the connection keeps the process alive while calls are on it. */
  callStarted(conn: Connection): void {
    if (conn.active++ === 0 && !conn.session.destroyed) conn.session.ref();
  }

  callEnded(conn: Connection): void {
    if (--conn.active > 0 || conn.session.destroyed) return;
    conn.session.unref();
    // Retired (GOAWAY, stream ids used up): nothing will use it again.
    if (conn.done) conn.session.close();
  }

  /** A call on `conn` passed its deadline: the connection must answer a PING within `ms` or go. */
  checkAlive(conn: Connection, ms: number): void {
    if (conn.pinging || conn.done || conn.session.destroyed) return;
    conn.pinging = true;
    const timer = setTimeout(() => {
      conn.failure ??= `connection did not answer a PING within ${ms}ms`;
      this.retire(conn);
      conn.session.destroy();
    }, ms);
    timer.unref();
    const done = () => {
      conn.pinging = false;
      clearTimeout(timer);
    };
    try {
      // A ping that fails (the session is going) needs no timer: the session's end fails its calls.
      if (!conn.session.ping(done)) done();
    } catch {
      done();
    }
  }

  /** Closes every connection (calls still on them fail UNAVAILABLE); new calls fail CANCELLED. Safe to call twice. */
  close(): void {
    this.closed = true;
    this.conn = undefined;
    for (const c of this.connections) {
      c.done = true;
      c.failure ??= 'client closed';
      c.session.destroy();
    }
    this.connections.clear();
  }
}

/** One call on one stream; `result` settles once. */
class UnaryCall {
  readonly result: Promise<Buffer>;
  private resolve!: (b: Buffer) => void;
  private reject!: (e: GrpcCallError) => void;
  private readonly client: GrpcH2Client;
  private readonly conn: Connection;
  private readonly signal: AbortSignal | undefined;
  private stream: ClientHttp2Stream | undefined;
  private headers: IncomingHttpHeaders | undefined;
  private trailers: IncomingHttpHeaders | undefined;
  /** The response headers carried END_STREAM (Trailers-Only): they hold the status. */
  private headersEnded = false;
  private readonly chunks: Buffer[] = [];
  private received = 0;
  private ended = false;
  private completing = false;
  private settled = false;
  /** Set when this side ended the call: its own error, not the stream's close code, is reported. */
  private localError: GrpcCallError | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = () => this.cancel(new GrpcCallError(GrpcCode.CANCELLED, 'call cancelled'));

  constructor(client: GrpcH2Client, conn: Connection, path: string, body: Buffer, compressed: boolean, deadline: number, signal: AbortSignal | undefined) {
    this.result = new Promise<Buffer>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.client = client;
    this.conn = conn;
    this.signal = signal;
    const timeoutMs = Math.max(0, deadline - Date.now());
    this.timer = setTimeout(() => {
      this.cancel(new GrpcCallError(GrpcCode.DEADLINE_EXCEEDED, `deadline exceeded after ${timeoutMs}ms`));
      client.checkAlive(conn, Math.max(1000, timeoutMs));
    }, timeoutMs);
    signal?.addEventListener('abort', this.onAbort, { once: true });
    client.callStarted(conn);
    let stream: ClientHttp2Stream;
    try {
      stream = conn.session.request(client.requestHeaders(path, deadline), { endStream: false });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Stream ids used up (ERR_HTTP2_OUT_OF_STREAMS) or the connection closing: the call was
      // never sent, and goes again on a new connection.
      const notSent = code === 'ERR_HTTP2_OUT_OF_STREAMS' || code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_INVALID_SESSION';
      if (notSent) client.retire(conn);
      this.finish(notSent ? neverSent(unavailable(`cannot start a call: ${(err as Error).message}`, err)) : new GrpcCallError(GrpcCode.INTERNAL, `cannot start a call: ${(err as Error).message}`, { cause: err }));
      return;
    }
    this.stream = stream;
    stream.on('error', () => undefined); // reported through 'close'
    stream.on('response', (h: IncomingHttpHeaders, flags: number) => {
      this.headersEnded = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
      this.onResponse(h);
    });
    stream.on('trailers', (t: IncomingHttpHeaders) => (this.trailers = t));
    stream.on('data', (c: Buffer) => this.onData(c));
    stream.on('end', () => this.onEnd());
    stream.on('close', () => this.onClose());
    // Length-Prefixed-Message: prefix and message as two writes, so the message is not copied.
    const prefix = Buffer.allocUnsafe(5);
    prefix[0] = compressed ? 1 : 0;
    prefix.writeUInt32BE(body.length, 1);
    stream.cork();
    stream.write(prefix);
    stream.end(body);
  }

  private onResponse(h: IncomingHttpHeaders): void {
    this.headers = h;
    const status = Number(h[':status']);
    const contentType = header(h, 'content-type') ?? '';
    const grpc = /^application\/grpc(?:$|[+;])/i.test(contentType);
    if (status !== 200) {
      const code = HTTP_STATUS[status] ?? GrpcCode.UNKNOWN;
      this.cancel(new GrpcCallError(code, `unexpected HTTP status code received from server: ${status}${grpc ? '' : `; content-type ${JSON.stringify(contentType)}`}`));
    } else if (!grpc) {
      this.cancel(new GrpcCallError(GrpcCode.UNKNOWN, `received a response that is not gRPC: content-type ${JSON.stringify(contentType)}`));
    }
  }

  private onData(c: Buffer): void {
    if (this.settled) return;
    this.received += c.length;
    if (this.received > this.client.maxReceive + 5) {
      this.cancel(new GrpcCallError(GrpcCode.RESOURCE_EXHAUSTED, `response larger than max (more than ${this.client.maxReceive} bytes)`, { responseTooLarge: true }));
      return;
    }
    this.chunks.push(c);
  }

  private onEnd(): void {
    this.ended = true;
    const s = this.stream;
    if (this.settled || s === undefined) return;
    // The server has answered (the call completes when the stream closes): a request it stopped
    // reading early (a Trailers-Only error) is not sent on, as grpc-go resets it too.
    if (!s.writableFinished && !s.closed) s.close(NGHTTP2_NO_ERROR);
  }

  private onClose(): void {
    if (this.settled) return;
    if (this.localError !== undefined) {
      this.finish(this.localError);
      return;
    }
    if (this.ended) {
      void this.complete();
      return;
    }
    // The stream ended without the server's END_STREAM: reset by it, or its connection went away.
    const rst = this.stream?.rstCode ?? NGHTTP2_NO_ERROR;
    const session = this.conn.session;
    if (rst === NGHTTP2_REFUSED_STREAM) {
      this.finish(neverSent(unavailable('the server refused the stream (REFUSED_STREAM): the call was not processed')));
    } else if (session.destroyed || session.closed || this.conn.failure !== undefined) {
      this.finish(unavailable(`connection to the server lost: ${this.conn.failure ?? 'closed'}`));
    } else if (rst === NGHTTP2_ENHANCE_YOUR_CALM) {
      // The server (or a proxy) shedding load, e.g. node:http2 past its session memory or header
      // limits: RESOURCE_EXHAUSTED as grpc-go maps it, but a throttle to retry after a backoff, not
      // a refusal for size. The server may have taken the request before the reset, so the retry
      // can deliver it twice, as after UNAVAILABLE.
      this.finish(new GrpcCallError(GrpcCode.RESOURCE_EXHAUSTED, 'stream reset by the server with RST_STREAM code 11 (ENHANCE_YOUR_CALM): the server is shedding load', { loadShed: true }));
    } else {
      this.finish(new GrpcCallError(RST_STREAM_STATUS[rst] ?? GrpcCode.INTERNAL, `stream reset by the server with RST_STREAM code ${rst}`));
    }
  }

  /** The server's answer is all in: status, then the message. */
  private async complete(): Promise<void> {
    if (this.settled || this.completing) return;
    this.completing = true;
    const h = this.headers;
    if (h === undefined) {
      this.finish(new GrpcCallError(GrpcCode.INTERNAL, 'the server ended the stream without response headers'));
      return;
    }
    // The status is in the trailers, or in headers that ended the stream (Trailers-Only); a
    // grpc-status in headers that did not end it is not the call's status.
    if (this.trailers === undefined && !this.headersEnded) {
      // node:http2 ends a stream the server resets after its headers as if it had ended it
      // (rstCode 0, no error): a REFUSED_STREAM or CANCEL looks the same as a DATA frame with
      // END_STREAM and no trailers. The server did not say the call succeeded or failed for good.
      this.finish(unavailable('the server ended the stream after its response headers without trailers (a reset by it or a proxy): no grpc-status'));
      return;
    }
    const st = this.trailers ?? h;
    const raw = header(st, 'grpc-status');
    if (raw === undefined) {
      this.finish(new GrpcCallError(GrpcCode.INTERNAL, 'the server ended the call without a grpc-status (no trailers)'));
      return;
    }
    const code = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (Number.isNaN(code)) {
      this.finish(new GrpcCallError(GrpcCode.INTERNAL, `malformed grpc-status ${JSON.stringify(raw)}`));
      return;
    }
    if (code !== GrpcCode.OK) {
      const details = percentDecodeGrpcMessage(header(st, 'grpc-message') ?? '');
      const bin = header(st, 'grpc-status-details-bin');
      this.finish(new GrpcCallError(code, details, bin === undefined ? {} : { statusDetails: Buffer.from(bin, 'base64') }));
      return;
    }
    try {
      this.finish(undefined, await this.message(h));
    } catch (err) {
      this.finish(err instanceof GrpcCallError ? err : new GrpcCallError(GrpcCode.INTERNAL, String(err)));
    }
  }

  /** The response message of an OK call: empty when the server sent none, as grpc-go accepts. */
  private async message(h: IncomingHttpHeaders): Promise<Buffer> {
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    if (data.length === 0) return data;
    if (data.length < 5) throw new GrpcCallError(GrpcCode.INTERNAL, `response ended inside the gRPC message prefix (${data.length} bytes)`);
    const flag = data[0]!;
    const length = data.readUInt32BE(1);
    if (flag > 1) throw new GrpcCallError(GrpcCode.INTERNAL, `response has unexpected payload format ${flag}`);
    if (length > this.client.maxReceive) throw new GrpcCallError(GrpcCode.RESOURCE_EXHAUSTED, `response larger than max (${length} vs. ${this.client.maxReceive})`, { responseTooLarge: true });
    if (data.length !== 5 + length) throw new GrpcCallError(GrpcCode.INTERNAL, `response carries ${data.length - 5} bytes for a message of ${length}: a unary call answers with exactly one message`);
    const msg = data.subarray(5);
    if (flag === 0) return msg;
    const encoding = header(h, 'grpc-encoding') ?? 'identity';
    if (encoding !== 'gzip') throw new GrpcCallError(GrpcCode.INTERNAL, `compressed response with grpc-encoding ${JSON.stringify(encoding)}: only gzip is accepted`);
    try {
      return await gunzipAsync(msg, { maxOutputLength: this.client.maxReceive });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new GrpcCallError(GrpcCode.RESOURCE_EXHAUSTED, `decompressed response larger than max (${this.client.maxReceive})`, { responseTooLarge: true });
      throw new GrpcCallError(GrpcCode.INTERNAL, `cannot decompress the response: ${(err as Error).message}`);
    }
  }

  /** This side ends the call (deadline, abort, a response not wanted): RST_STREAM CANCEL. */
  private cancel(err: GrpcCallError): void {
    if (this.settled || this.localError !== undefined) return;
    this.localError = err;
    const s = this.stream;
    if (s === undefined || s.closed || s.destroyed) this.finish(err);
    else s.close(NGHTTP2_CANCEL);
  }

  private finish(err: GrpcCallError | undefined, msg?: Buffer): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.client.callEnded(this.conn);
    if (err !== undefined) this.reject(err);
    else this.resolve(msg!);
  }
}
