// A gRPC unary call on node:http2 whose bytes the test chooses: headers, a body sent whole or in
// parts, the end of the stream sent or held back. The answer is read as a client would: HTTP
// status, grpc-status and grpc-message from the headers (Trailers-Only) or the trailers.
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';

export interface GrpcAnswer {
  httpStatus: number;
  headers: IncomingHttpHeaders;
  grpcStatus: number | undefined;
  grpcMessage: string;
  body: Buffer;
  /** The stream was reset (RST_STREAM) with this code before any status arrived. */
  rstCode: number | undefined;
}

export function openSession(port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    // Memory for large requests queued on this side (node's default, 10 MB, would refuse streams).
    const session = connect(`http://127.0.0.1:${port}`, { maxSessionMemory: 1024 });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

export function grpcFrame(message: Buffer, compressed = false): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

export interface StartedCall {
  stream: ClientHttp2Stream;
  answer: Promise<GrpcAnswer>;
}

/** Starts a call; `body` is written, and the stream ended unless `end` is false. */
export function startCall(session: ClientHttp2Session, path: string, body: Buffer, opts: { headers?: Record<string, string>; end?: boolean } = {}): StartedCall {
  const stream = session.request({
    [constants.HTTP2_HEADER_METHOD]: 'POST',
    [constants.HTTP2_HEADER_PATH]: path,
    [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
    te: 'trailers',
    ...opts.headers,
  });
  const answer = new Promise<GrpcAnswer>((resolve) => {
    let headers: IncomingHttpHeaders = {};
    let status: string | undefined;
    let message = '';
    const chunks: Buffer[] = [];
    const done = () =>
      resolve({
        httpStatus: Number(headers[constants.HTTP2_HEADER_STATUS] ?? 0),
        headers,
        grpcStatus: status === undefined ? undefined : Number(status),
        grpcMessage: message,
        body: Buffer.concat(chunks),
        rstCode: status === undefined ? stream.rstCode : undefined,
      });
    const take = (h: IncomingHttpHeaders) => {
      if (h['grpc-status'] === undefined) return;
      status = String(h['grpc-status']);
      if (h['grpc-message'] !== undefined) message = decodeURIComponent(String(h['grpc-message']));
      // As gRPC clients do: the status ends the call, even while the request is still being sent.
      done();
      if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
    };
    stream.on('response', (h) => {
      headers = h;
      take(h);
    });
    stream.on('trailers', take);
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', () => undefined);
    stream.on('close', done);
  });
  if (opts.end === false) stream.write(body);
  else stream.end(body);
  return { stream, answer };
}

/** One call on its own connection. */
export async function call(port: number, path: string, body: Buffer, headers: Record<string, string> = {}): Promise<GrpcAnswer> {
  const session = await openSession(port);
  try {
    return await startCall(session, path, body, { headers }).answer;
  } finally {
    session.close();
  }
}
