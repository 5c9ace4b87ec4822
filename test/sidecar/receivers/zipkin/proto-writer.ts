// An independent Zipkin proto3 encoder for tests, written by hand from zipkin.proto's field
// numbers (not from the receiver's protobufjs schema), so the two cross-check each other.
// Input: Zipkin v2 JSON span objects as in the fixtures.

class Writer {
  private readonly parts: Buffer[] = [];

  varint(n: bigint | number): this {
    let v = BigInt(n);
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.parts.push(Buffer.from(out));
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    this.parts.push(Buffer.from(b));
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, Buffer.from(s, 'utf8'));
  }

  fixed64(field: number, n: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(n);
    this.tag(field, 1);
    this.parts.push(b);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

interface JsonEndpoint {
  serviceName?: string;
  ipv4?: string;
  ipv6?: string;
  port?: number;
}

function endpoint(e: JsonEndpoint): Buffer {
  const w = new Writer();
  if (e.serviceName) w.string(1, e.serviceName);
  if (e.ipv4) w.bytes(2, Buffer.from(e.ipv4.split('.').map(Number)));
  if (e.port) w.tag(4, 0).varint(e.port);
  return w.finish();
}

const KIND: Record<string, number> = { CLIENT: 1, SERVER: 2, PRODUCER: 3, CONSUMER: 4 };

/** Encodes a zipkin.proto3.ListOfSpans. */
export function encodeListOfSpans(spans: Record<string, unknown>[]): Buffer {
  const list = new Writer();
  for (const s of spans) {
    const w = new Writer();
    w.bytes(1, Buffer.from(s.traceId as string, 'hex'));
    if (s.parentId) w.bytes(2, Buffer.from(s.parentId as string, 'hex'));
    w.bytes(3, Buffer.from(s.id as string, 'hex'));
    if (s.kind) w.tag(4, 0).varint(KIND[s.kind as string]!);
    if (s.name) w.string(5, s.name as string);
    if (s.timestamp) w.fixed64(6, BigInt(s.timestamp as number));
    if (s.duration) w.tag(7, 0).varint(s.duration as number);
    if (s.localEndpoint) w.bytes(8, endpoint(s.localEndpoint));
    if (s.remoteEndpoint) w.bytes(9, endpoint(s.remoteEndpoint));
    for (const a of (s.annotations as { timestamp: number; value: string }[] | undefined) ?? []) {
      w.bytes(10, new Writer().fixed64(1, BigInt(a.timestamp)).string(2, a.value).finish());
    }
    for (const [k, v] of Object.entries((s.tags as Record<string, string> | undefined) ?? {})) {
      w.bytes(11, new Writer().string(1, k).string(2, v).finish());
    }
    if (s.debug) w.tag(12, 0).varint(1);
    if (s.shared) w.tag(13, 0).varint(1);
    list.bytes(1, w.finish());
  }
  return list.finish();
}
