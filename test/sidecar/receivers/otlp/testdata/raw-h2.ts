// A hand-written HTTP/2 client for the frames real clients send only in races (an RST_STREAM for a
// stream the server never saw, a message left half-sent). Frames are built byte by byte (RFC 9113
// §4.1; HPACK literals without Huffman coding, RFC 7541 §6.2.2), and the server's frames are
// split back into type, flags and stream, which is all the tests need to read.
import { connect, type Socket } from 'node:net';

export const FrameType = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const ACK = 0x1;

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** The SETTINGS gRPC C-core (Python grpcio 1.51) sends first, captured from the wire. */
export const GRPC_CORE_SETTINGS = Buffer.from('0002000000000003000000000004003fffff0005003fffff000600002000fe0300000001', 'hex');

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK integer with an N-bit prefix (RFC 7541 §5.1). */
function hpackInt(value: number, prefixBits: number, firstByte: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [firstByte | value];
  const out = [firstByte | max];
  let v = value - max;
  while (v >= 128) {
    out.push((v % 128) + 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** A header block of literals without indexing, new names (RFC 7541 §6.2.2). */
export function headerBlock(headers: Record<string, string>): Buffer {
  const bytes: number[] = [];
  for (const [name, value] of Object.entries(headers)) {
    bytes.push(0x00, ...hpackInt(name.length, 7, 0), ...Buffer.from(name, 'latin1'));
    bytes.push(...hpackInt(value.length, 7, 0), ...Buffer.from(value, 'latin1'));
  }
  return Buffer.from(bytes);
}

export function headersFrame(streamId: number, headers: Record<string, string>, endStream = false): Buffer {
  return frame(FrameType.HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), streamId, headerBlock(headers));
}

export function dataFrame(streamId: number, payload: Buffer, endStream = false): Buffer {
  return frame(FrameType.DATA, endStream ? END_STREAM : 0, streamId, payload);
}

export function rstStreamFrame(streamId: number, code = 8 /* CANCEL */): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code);
  return frame(FrameType.RST_STREAM, 0, streamId, p);
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(increment);
  return frame(FrameType.WINDOW_UPDATE, 0, streamId, p);
}

/** A gRPC Length-Prefixed-Message. */
export function grpcMessage(message: Buffer, compressed = false): Buffer {
  const head = Buffer.alloc(5);
  head[0] = compressed ? 1 : 0;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

export function grpcRequestHeaders(path: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ':method': 'POST', ':scheme': 'http', ':path': path, ':authority': 'localhost', 'content-type': 'application/grpc', te: 'trailers', ...extra };
}

export interface ReceivedFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** A raw HTTP/2 connection: sends bytes as given, acknowledges SETTINGS, records every frame received. */
export class RawH2Connection {
  readonly frames: ReceivedFrame[] = [];
  closed = false;
  private readonly socket: Socket;
  private pending: Buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, settings: Buffer = Buffer.alloc(0)): Promise<RawH2Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.off('error', reject);
        const c = new RawH2Connection(socket);
        // A large connection window, so the server's answers never wait on this client.
        c.send(Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0, settings), windowUpdateFrame(0, 1 << 30)]));
        resolve(c);
      });
      socket.once('error', reject);
    });
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }

  /** Frames for `streamId` that end the stream (HEADERS or DATA with END_STREAM) or reset it. */
  ended(streamId: number): ReceivedFrame | undefined {
    return this.frames.find((f) => f.streamId === streamId && (f.type === FrameType.RST_STREAM || ((f.type === FrameType.HEADERS || f.type === FrameType.DATA) && (f.flags & END_STREAM) !== 0)));
  }

  goaway(): ReceivedFrame | undefined {
    return this.frames.find((f) => f.type === FrameType.GOAWAY);
  }

  /** Resolves when `check` holds; rejects after `ms`. */
  waitFor(check: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; frames: ${this.describe()}`)), ms);
      const waiter = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve();
      };
      this.waiters.push(waiter);
    });
  }

  describe(): string {
    return this.frames.map((f) => `${f.type}/${f.flags}@${f.streamId}`).join(' ') + (this.closed ? ' [closed]' : '');
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 9) {
      const length = this.pending.readUIntBE(0, 3);
      if (this.pending.length < 9 + length) break;
      const f: ReceivedFrame = { type: this.pending[3]!, flags: this.pending[4]!, streamId: this.pending.readUInt32BE(5) & 0x7fffffff, payload: this.pending.subarray(9, 9 + length) };
      this.pending = this.pending.subarray(9 + length);
      this.frames.push(f);
      if (f.type === FrameType.SETTINGS && (f.flags & ACK) === 0) this.send(frame(FrameType.SETTINGS, ACK, 0));
    }
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}
