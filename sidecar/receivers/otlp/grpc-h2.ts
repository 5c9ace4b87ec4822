// A unary gRPC server on node:http2, just enough for OTLP's three Export methods.
//
// Why not grpc-js on the receiving side: per call, grpc-js runs its metadata, filter and call
// machinery, which the bench measured as most of the CPU of the OTLP/gRPC → OTLP path (OTLP/HTTP on
// node:http sustained ~4x the spans/s of OTLP/gRPC on grpc-js on one core). OTLP uses unary calls
// only, whose wire protocol is small (github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md):
//   request:  POST /<service>/<method>, content-type application/grpc[+proto], optional
//             grpc-encoding; body = one Length-Prefixed-Message: 1 byte compressed flag,
//             4 bytes big-endian length, the message.
//   response: :status 200, content-type application/grpc, one Length-Prefixed-Message, then the
//             trailers grpc-status (0 = OK) and grpc-message (percent-encoded); an error is a
//             "Trailers-Only" response: the headers carry grpc-status and end the stream.
// grpc-js stays the client (exporters), where calls are per batch, not per app request.
import { constants, createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gunzip, inflate } from 'node:zlib';
import { promisify } from 'node:util';
import { parseHostPort } from '../../config/schema.ts';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/** gRPC status codes used here. */
export const GrpcStatus = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

export class GrpcError extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.name = 'GrpcError';
    this.code = code;
  }
}

/** Handles one request message; resolves with the response message or rejects with a GrpcError. */
export type UnaryHandler = (request: Buffer) => Promise<Buffer>;

const { HTTP2_HEADER_PATH, HTTP2_HEADER_METHOD, HTTP2_HEADER_CONTENT_TYPE, HTTP2_HEADER_STATUS } = constants;

export class GrpcH2Server {
  private readonly server: Http2Server;
  private readonly handlers = new Map<string, UnaryHandler>();
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly maxMessageBytes: number;

  constructor(opts: { maxMessageBytes: number; maxConcurrentStreams?: number }) {
    this.maxMessageBytes = opts.maxMessageBytes;
    this.server = createServer({
      settings: opts.maxConcurrentStreams ? { maxConcurrentStreams: opts.maxConcurrentStreams } : {},
      // Buffered request bodies are bounded by maxMessageBytes per stream; this bounds a session.
      maxSessionMemory: 64,
    });
    this.server.on('stream', (stream, headers) => this.onStream(stream, headers));
    this.server.on('session', (session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
    // A broken client connection must never take the process down.
    this.server.on('sessionError', () => undefined);
  }

  addMethod(path: string, handler: UnaryHandler): void {
    this.handlers.set(path, handler);
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => undefined);
    const path = headers[HTTP2_HEADER_PATH] as string | undefined;
    const contentType = (headers[HTTP2_HEADER_CONTENT_TYPE] as string | undefined) ?? '';
    if (headers[HTTP2_HEADER_METHOD] !== 'POST' || !contentType.startsWith('application/grpc')) {
      stream.respond({ [HTTP2_HEADER_STATUS]: 415, [HTTP2_HEADER_CONTENT_TYPE]: 'text/plain' });
      stream.end('gRPC only: POST with content-type application/grpc\n');
      return;
    }
    const handler = path === undefined ? undefined : this.handlers.get(path);
    if (handler === undefined) {
      stream.resume();
      this.trailersOnly(stream, GrpcStatus.UNIMPLEMENTED, `unknown method ${path ?? ''}`);
      return;
    }
    const encoding = ((headers['grpc-encoding'] as string | undefined) ?? 'identity').toLowerCase();
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    // The prefix says how long the message is; refuse as soon as the wire bytes exceed the limit
    // (compressed bytes larger than the limit mean a larger message) instead of buffering them.
    stream.on('data', (c: Buffer) => {
      if (refused) return;
      size += c.length;
      if (size > this.maxMessageBytes + 5) {
        refused = true;
        this.trailersOnly(stream, GrpcStatus.RESOURCE_EXHAUSTED, `Received message larger than max (${size - 5} vs. ${this.maxMessageBytes})`);
        return;
      }
      chunks.push(c);
    });
    stream.on('end', () => {
      if (refused) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      this.unary(stream, handler, body, encoding).catch((err: unknown) => {
        const e = err instanceof GrpcError ? err : new GrpcError(GrpcStatus.INTERNAL, String(err));
        this.trailersOnly(stream, e.code, e.message);
      });
    });
  }

  private async unary(stream: ServerHttp2Stream, handler: UnaryHandler, body: Buffer, encoding: string): Promise<void> {
    if (body.length < 5) throw new GrpcError(GrpcStatus.INTERNAL, 'request has no gRPC message frame');
    const compressed = body[0] === 1;
    const length = body.readUInt32BE(1);
    if (length !== body.length - 5) throw new GrpcError(GrpcStatus.INTERNAL, `gRPC frame length ${length} does not match the ${body.length - 5} bytes received`);
    let message = body.subarray(5);
    if (compressed) message = await this.decompress(message, encoding);
    if (message.length > this.maxMessageBytes) {
      throw new GrpcError(GrpcStatus.RESOURCE_EXHAUSTED, `Received message larger than max (${message.length} vs. ${this.maxMessageBytes})`);
    }
    const response = await handler(message);
    if (stream.destroyed) return;
    const frame = Buffer.allocUnsafe(5 + response.length);
    frame[0] = 0;
    frame.writeUInt32BE(response.length, 1);
    response.copy(frame, 5);
    stream.respond({ [HTTP2_HEADER_STATUS]: 200, [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc', 'grpc-accept-encoding': 'identity,deflate,gzip' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(frame);
  }

  /** Decompresses with the output bounded by the message limit: a gzip bomb stops there. */
  private async decompress(message: Buffer, encoding: string): Promise<Buffer> {
    const opts = { maxOutputLength: this.maxMessageBytes + 1 };
    try {
      if (encoding === 'gzip') return await gunzipAsync(message, opts);
      if (encoding === 'deflate') return await inflateAsync(message, opts);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new GrpcError(GrpcStatus.RESOURCE_EXHAUSTED, `Received message larger than max (more than ${this.maxMessageBytes} bytes after decompression)`);
      }
      throw new GrpcError(GrpcStatus.INTERNAL, `cannot decompress ${encoding} message: ${(err as Error).message}`);
    }
    throw new GrpcError(GrpcStatus.UNIMPLEMENTED, `unsupported grpc-encoding "${encoding}" (supported: identity, gzip, deflate)`);
  }

  private trailersOnly(stream: ServerHttp2Stream, code: number, message: string): void {
    if (stream.destroyed || stream.headersSent) {
      stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    stream.respond(
      {
        [HTTP2_HEADER_STATUS]: 200,
        [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
        'grpc-status': String(code),
        'grpc-message': encodeURIComponent(message),
      },
      { endStream: true },
    );
  }

  listen(endpoint: string): Promise<number> {
    const hp = parseHostPort(endpoint);
    if (hp === undefined) return Promise.reject(new Error(`invalid endpoint ${endpoint}`));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(hp.port, hp.host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting sessions; in-flight streams get `graceMs` to finish. */
  close(graceMs: number): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const s of this.sessions) s.destroy();
      }, graceMs);
      timer.unref();
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      // GOAWAY: clients stop opening streams; streams in flight finish.
      for (const s of this.sessions) s.close();
    });
  }
}
