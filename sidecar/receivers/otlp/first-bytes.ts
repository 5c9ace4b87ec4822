// Tells a connection's protocol from its first bytes, once per connection.
//
// An HTTP/2 client without TLS (OTLP/gRPC exporters, `nghttp`, `curl --http2-prior-knowledge`)
// opens with the 24-byte client preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (RFC 9113 §3.4); any
// other first bytes are taken for HTTP/1.1, whose parser answers what it cannot read with 400. The
// verdict comes as soon as a byte differs from the preface (an HTTP/1.1 request differs at its
// first or second byte), so HTTP/1.1 clients never wait. After a whole preface, the bytes up to
// the end of the first SETTINGS frame also tell gRPC C-core clients apart (h2-frame-filter.ts says
// why they matter). A client that has not sent enough bytes by `timeoutMs` is closed, unless its
// whole preface has arrived: then it is HTTP/2 (a client may wait before its SETTINGS).
//
// Bytes are read once and handed on with the verdict; the new owner puts them back in front of the
// socket (Socket.unshift). After that the socket is read as before: nothing here runs per request.
import type { Socket } from 'node:net';
import { isGrpcCoreClient } from './h2-frame-filter.ts';

export type ConnectionKind = 'http1' | 'http2' | 'http2-grpc-core';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** Bytes read to find a connection's first SETTINGS frame before giving up and calling it plain HTTP/2. */
const MAX_PEEK = 16 * 1024;
/**
 * Time to tell a connection's protocol. Every client sends its first bytes as soon as it has
 * connected (an HTTP/2 client its preface and SETTINGS in one write), so on the pod's loopback a
 * connection still silent after this long is broken or not a client of this receiver.
 */
export const DEFAULT_FIRST_BYTES_TIMEOUT_MS = 10_000;

/** The protocol of a connection from its first bytes, or undefined when more bytes are needed. */
export function classifyConnection(head: Buffer): ConnectionKind | undefined {
  const n = Math.min(head.length, PREFACE.length);
  if (head.compare(PREFACE, 0, n, 0, n) !== 0) return 'http1';
  if (head.length < PREFACE.length) return undefined;
  const core = isGrpcCoreClient(head);
  if (core === undefined) return head.length < MAX_PEEK ? undefined : 'http2';
  return core ? 'http2-grpc-core' : 'http2';
}

/** Reads the first bytes of connections and hands each on with its protocol. */
export class FirstBytesReader {
  private readonly timeoutMs: number;
  /** Connections whose protocol is not known yet. */
  private readonly pending = new Set<Socket>();

  constructor(timeoutMs = DEFAULT_FIRST_BYTES_TIMEOUT_MS) {
    this.timeoutMs = timeoutMs;
  }

  /**
   * Calls `dispatch` once the protocol of `socket` is known, with the bytes read so far (to be
   * put back) and the socket paused; or destroys the socket if it is not known in time.
   */
  read(socket: Socket, dispatch: (kind: ConnectionKind, head: Buffer) => void): void {
    // A broken client connection must never take the process down.
    socket.on('error', () => undefined);
    this.pending.add(socket);
    let head: Buffer = Buffer.alloc(0);
    const done = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onClose);
      this.pending.delete(socket);
    };
    const onData = (chunk: Buffer) => {
      // One chunk nearly always decides: a copy only when the first bytes came in pieces.
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const kind = classifyConnection(head);
      if (kind === undefined) return;
      done();
      socket.pause();
      dispatch(kind, head);
    };
    const onTimeout = () => {
      done();
      if (head.length >= PREFACE.length) {
        socket.pause();
        dispatch('http2', head);
      } else {
        socket.destroy();
      }
    };
    // The client ended its side before its first bytes said what it speaks: nothing will follow.
    const onEnd = () => {
      done();
      socket.destroy();
    };
    const onClose = () => done();
    const timer = setTimeout(onTimeout, this.timeoutMs);
    timer.unref();
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onClose);
  }

  /** Closes the connections still being read (at shutdown). */
  destroyPending(): void {
    for (const socket of this.pending) socket.destroy();
  }
}
