// Drops RST_STREAM frames for idle streams between a gRPC C-core client's socket and node:http2.
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
// Only C-core connections go through it, told apart by the first bytes of the connection: C-core's
// SETTINGS carry its own setting 0xFE03 (grpc_allow_true_binary_metadata). Why not every
// connection: node:http2 reads and writes a native socket without JS; behind a JS stream it goes
// through JSStreamSocket, which crosses into JS for every read and allows one write at a time,
// each completed a setImmediate later. In an ad hoc run (h2load, testbed requests, full sidecar
// with batch and otlp exporter, one core) that cost 15-40% more CPU per request and up to half the
// throughput; the scan itself was not measurable next to it. Other clients keep the native path.
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const PREFACE_LENGTH = 24;
const TYPE_SETTINGS = 0x4;
/** gRPC C-core's own SETTINGS parameter (GRPC_ALLOW_TRUE_BINARY_METADATA). */
const SETTING_GRPC_ALLOW_TRUE_BINARY_METADATA = 0xfe03;

/**
 * From the first bytes of a connection: true when the client is gRPC C-core (its SETTINGS frame,
 * the first after the preface, carries 0xFE03), false when it is not (or is not HTTP/2 at all),
 * undefined when more bytes are needed to tell.
 */
export function isGrpcCoreClient(head: Buffer): boolean | undefined {
  const n = Math.min(head.length, PREFACE_LENGTH);
  if (!head.subarray(0, n).equals(PREFACE.subarray(0, n))) return false;
  if (head.length < PREFACE_LENGTH + FRAME_HEADER_LENGTH) return undefined;
  const at = PREFACE_LENGTH;
  const length = (head[at]! << 16) | (head[at + 1]! << 8) | head[at + 2]!;
  if (head[at + 3] !== TYPE_SETTINGS) return false;
  if (head.length < at + FRAME_HEADER_LENGTH + length) return undefined;
  for (let i = at + FRAME_HEADER_LENGTH; i + 6 <= at + FRAME_HEADER_LENGTH + length; i += 6) {
    if (head.readUInt16BE(i) === SETTING_GRPC_ALLOW_TRUE_BINARY_METADATA) return true;
  }
  return false;
}
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

  /** `head`: bytes already read from the socket (see isGrpcCoreClient). */
  constructor(socket: Socket, onDrop: () => void = () => undefined, head?: Buffer) {
    // A larger buffer than the default 16 KiB: fewer pause/resume round trips per socket read.
    super({ allowHalfOpen: false, readableHighWaterMark: 256 * 1024 });
    this.socket = socket;
    this.onDrop = onDrop;
    const push = (part: Buffer) => {
      if (!this.push(part)) socket.pause();
    };
    const scan = (chunk: Buffer) => {
      const before = this.scanner.dropped;
      this.scanner.scan(chunk, push);
      if (this.scanner.dropped !== before) this.onDrop();
    };
    if (head !== undefined) scan(head);
    socket.on('data', scan);
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
