// Primitives over the protobuf wire format: a cursor that reads tags, varints, lengths and fixed
// fields and skips unknown fields, the varint writer the splicers use, and the error every
// malformed input raises. The OTLP -> OTLP path never decodes into objects (decoding and
// re-encoding would drop fields this schema does not know, and costs most of the CPU of a relay):
// validate.ts checks a request to the leaves once, and trace-view.ts records where things sit.
// Tags: fields.ts.
import { PermanentError } from '../component/errors.ts';
import { WIRE_EGROUP, WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_SGROUP, WIRE_VARINT } from './fields.ts';

export { WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT } from './fields.ts';
// Re-exports only (no use at module load), so the import cycle with trace-view.ts is harmless.
export { countSpans } from './trace-view.ts';

/**
 * Malformed protobuf. Permanent: the same bytes will never be accepted, so clients must not retry
 * (receivers answer INVALID_ARGUMENT / 400 with the message, which names the path).
 */
export class WireFormatError extends PermanentError {
  constructor(message: string) {
    super(message);
    this.name = 'WireFormatError';
  }
}

/**
 * Message nesting limit, counted as protobuf parsers count it: C++, Java, upb and protobufjs (the
 * decoder of the exporters here that need objects) all default to 100 nested messages below the
 * top-level one, so a request within it decodes everywhere downstream. Only AnyValue recursion
 * (array_value, kvlist_value: ~47 levels of arrays in a span attribute) and unknown groups can
 * reach it.
 */
export const MAX_MESSAGE_DEPTH = 100;

/** A cursor over protobuf bytes. Methods throw WireFormatError on truncated or invalid input. */
export class WireReader {
  readonly buf: Uint8Array;
  pos: number;
  end: number;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** Reads a varint of up to 64 bits; returns it as a number (exact up to 2^53). */
  varint(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos < this.end && buf[pos]! < 0x80) {
      this.pos = pos + 1;
      return buf[pos]!;
    }
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= this.end) throw new WireFormatError('truncated varint');
      const b = buf[pos++]!;
      result += (b & 0x7f) * shift;
      if (b < 0x80) {
        this.pos = pos;
        return result;
      }
      shift *= 128;
    }
    throw new WireFormatError('varint longer than 10 bytes');
  }

  /**
   * Reads the varint of a 32-bit field (uint32, int32, enum, bool). Encoders write these in at
   * most 5 bytes, or 10 for a negative int32; other lengths are refused because protobufjs (the
   * decoder of the exporters that need objects) reads 5 bytes and then skips 5 more.
   */
  varint32(): number {
    const start = this.pos;
    const v = this.varint();
    const n = this.pos - start;
    if (n > 5 && n < 10) throw new WireFormatError(`${n}-byte varint in a 32-bit field`);
    return v;
  }

  /** Reads a field tag; returns (fieldNumber << 3 | wireType) as one number. */
  tag(): number {
    const buf = this.buf;
    const pos = this.pos;
    if (pos < this.end && buf[pos]! < 0x80) {
      this.pos = pos + 1;
      if (buf[pos]! < 8) throw new WireFormatError('field number 0');
      return buf[pos]!;
    }
    const t = this.varint();
    if (this.pos - pos > 5 || t > 0xffffffff) throw new WireFormatError('tag longer than 32 bits');
    if (t < 8) throw new WireFormatError('field number 0');
    return t >>> 0;
  }

  /** Reads a LEN prefix and returns the end offset of the payload. */
  lenEnd(): number {
    const start = this.pos;
    const len = this.varint();
    if (this.pos - start > 5) throw new WireFormatError('length prefix longer than 5 bytes');
    const e = this.pos + len;
    if (e > this.end) throw new WireFormatError(`length ${len} runs past the end of the message`);
    return e;
  }

  /** Reads a LEN field's payload (a view of the buffer, not a copy) and moves past it. */
  lenBytes(): Uint8Array {
    const e = this.lenEnd();
    const payload = this.buf.subarray(this.pos, e);
    this.pos = e;
    return payload;
  }

  /**
   * Skips a field's payload according to its wire type. A group (unused by OTLP, legal as an
   * unknown field) is skipped to its end tag, which must carry `field` when given; nested groups
   * count towards `depthLeft` levels.
   */
  skip(wireType: number, field = -1, depthLeft = MAX_MESSAGE_DEPTH): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_I64:
        this.advance(8);
        return;
      case WIRE_LEN:
        this.pos = this.lenEnd();
        return;
      case WIRE_I32:
        this.advance(4);
        return;
      case WIRE_SGROUP:
        this.skipGroup(field, depthLeft);
        return;
      case WIRE_EGROUP:
        throw new WireFormatError('end of a group that was not started');
      default:
        throw new WireFormatError(`invalid wire type ${wireType}`);
    }
  }

  private skipGroup(field: number, depthLeft: number): void {
    // Iterative, so a bomb of nested groups costs a bounded stack.
    const open = [field];
    while (open.length > 0) {
      if (this.pos >= this.end) throw new WireFormatError('group not closed');
      const t = this.tag();
      const w = t & 7;
      if (w === WIRE_EGROUP) {
        const want = open.pop()!;
        if (want !== -1 && want !== t >>> 3) throw new WireFormatError(`group ${want} closed by the end tag of ${t >>> 3}`);
      } else if (w === WIRE_SGROUP) {
        if (open.length >= depthLeft) throw new WireFormatError(`nested deeper than ${MAX_MESSAGE_DEPTH} messages`);
        open.push(t >>> 3);
      } else {
        this.skip(w);
      }
    }
  }

  advance(n: number): void {
    if (this.pos + n > this.end) throw new WireFormatError(`truncated ${n === 8 ? 'fixed64' : n === 4 ? 'fixed32' : 'field'}`);
    this.pos += n;
  }

  /** Reads a little-endian fixed64 as a number of nanoseconds (exact to ~256 ns at current epochs). */
  fixed64AsNumber(): number {
    const p = this.pos;
    this.advance(8);
    return readFixed64AsNumber(this.buf, p);
  }
}

/** The little-endian fixed64 at `p` as a number (exact up to 2^53). */
export function readFixed64AsNumber(b: Uint8Array, p: number): number {
  const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
  const hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16)) + b[p + 7]! * 0x1000000;
  return hi * 0x100000000 + lo;
}

/** Length in bytes of `n` encoded as a varint. */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Writes `n` as a varint at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 128) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}
