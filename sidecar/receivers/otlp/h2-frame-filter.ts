// Drops RST_STREAM frames for idle streams between a client's socket and node:http2.
//
// RFC 9113 §6.4 makes an RST_STREAM for a stream that was never opened a connection error, and
// nghttp2 (node:http2's engine) enforces it with no option to turn it off: it answers GOAWAY
// PROTOCOL_ERROR and every other call on the connection fails with INTERNAL, which OTLP clients
// do not retry. gRPC C-core (Python, Ruby, C++, PHP SDKs) sends exactly that frame when a call
// times out before its HEADERS left (grpc/grpc#19655), and grpc-go, the collector's server,
// ignores it. Matching grpc-go needs a look at the frames before nghttp2 sees them: this filter
// tracks the highest stream ID a client opened with HEADERS and drops RST_STREAM frames naming a
// higher (idle) one, or an even one (server-initiated; this server never pushes). Everything else
// passes through unchanged and, except for a frame header split across reads, without copying.
//
// Cost: node:http2 reads a native socket without JS; behind this filter every read crosses into
// JS once (JSStreamSocket) and its frame headers are walked, O(frames) per read.
// Measured in an ad hoc h2load run (testbed requests, trivial handler, one core): see the README's
// "gRPC transport" section.
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

const PREFACE_LENGTH = 24;
const FRAME_HEADER_LENGTH = 9;
const TYPE_HEADERS = 0x1;
const TYPE_RST_STREAM = 0x3;

/** The parsing state of one client-to-server byte stream. */
export class IdleResetScanner {
  /** Highest client stream ID opened by a HEADERS frame so far. */
  private maxOpened = 0;
  private prefaceLeft = PREFACE_LENGTH;
  /** Bytes of the current frame's payload still to pass (or to drop, when `dropping`). */
  private payloadLeft = 0;
  private dropping = false;
  private readonly header = Buffer.alloc(FRAME_HEADER_LENGTH);
  private headerFill = 0;
  dropped = 0;

  /**
   * Calls `emit` with the parts of `chunk` to pass on, in order: subarrays of `chunk`, plus a
   * 9-byte copy when a frame header was split across chunks and its frame is kept.
   */
  scan(chunk: Buffer, emit: (part: Buffer) => void): void {
    const len = chunk.length;
    let pos = 0;
    let from = 0; // start of the run of bytes to pass that ends at `pos`
    const flush = (end: number) => {
      if (end > from) emit(from === 0 && end === len ? chunk : chunk.subarray(from, end));
    };
    while (pos < len) {
      if (this.prefaceLeft > 0) {
        const n = Math.min(this.prefaceLeft, len - pos);
        this.prefaceLeft -= n;
        pos += n;
        continue;
      }
      if (this.payloadLeft > 0) {
        const n = Math.min(this.payloadLeft, len - pos);
        this.payloadLeft -= n;
        if (this.dropping) {
          flush(pos);
          from = pos + n;
        }
        pos += n;
        continue;
      }
      if (this.headerFill === 0 && len - pos >= FRAME_HEADER_LENGTH) {
        const drop = this.onFrameHeader(chunk, pos);
        if (drop) {
          flush(pos);
          from = pos + FRAME_HEADER_LENGTH;
        }
        pos += FRAME_HEADER_LENGTH;
        continue;
      }
      // A frame header split across chunks: hold its bytes back until it is whole.
      flush(pos);
      const n = Math.min(FRAME_HEADER_LENGTH - this.headerFill, len - pos);
      chunk.copy(this.header, this.headerFill, pos, pos + n);
      this.headerFill += n;
      pos += n;
      from = pos;
      if (this.headerFill === FRAME_HEADER_LENGTH) {
        this.headerFill = 0;
        if (!this.onFrameHeader(this.header, 0)) emit(Buffer.from(this.header));
      }
    }
    flush(len);
  }

  /** Reads the frame header at `at`; true when the frame is to be dropped. */
  private onFrameHeader(buf: Buffer, at: number): boolean {
    const length = (buf[at]! << 16) | (buf[at + 1]! << 8) | buf[at + 2]!;
    const type = buf[at + 3]!;
    const streamId = buf.readUInt32BE(at + 5) & 0x7fffffff;
    this.payloadLeft = length;
    this.dropping = false;
    if (type === TYPE_HEADERS) {
      if (streamId % 2 === 1 && streamId > this.maxOpened) this.maxOpened = streamId;
    } else if (type === TYPE_RST_STREAM && length === 4 && streamId !== 0 && (streamId > this.maxOpened || streamId % 2 === 0)) {
      // A malformed RST_STREAM (length, stream 0) still reaches nghttp2, which refuses it.
      this.dropping = true;
      this.dropped++;
    }
    return this.dropping;
  }
}

/**
 * The client socket as node:http2 sees it: reads pass through an IdleResetScanner, writes,
 * end and destroy go straight to the socket.
 */
export class IdleResetFilter extends Duplex {
  readonly socket: Socket;
  private readonly scanner = new IdleResetScanner();
  private readonly onDrop: () => void;

  constructor(socket: Socket, onDrop: () => void = () => undefined) {
    super({ allowHalfOpen: false });
    this.socket = socket;
    this.onDrop = onDrop;
    const push = (part: Buffer) => {
      if (!this.push(part)) socket.pause();
    };
    socket.on('data', (chunk: Buffer) => {
      const before = this.scanner.dropped;
      this.scanner.scan(chunk, push);
      if (this.scanner.dropped !== before) this.onDrop();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.socket.write(chunk, done);
  }

  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    this.socket.cork();
    for (let i = 0; i < chunks.length - 1; i++) this.socket.write(chunks[i]!.chunk);
    this.socket.write(chunks[chunks.length - 1]!.chunk, done);
    this.socket.uncork();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.socket.end(done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.socket.destroy();
    done(err);
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  setNoDelay(noDelay?: boolean): this {
    this.socket.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    this.socket.setKeepAlive(enable, initialDelay);
    return this;
  }

  setTimeout(ms: number, callback?: () => void): this {
    this.socket.setTimeout(ms, callback);
    return this;
  }
}
