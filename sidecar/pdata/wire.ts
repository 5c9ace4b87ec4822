// Schema-free walker over the protobuf wire format of ExportTraceServiceRequest.
//
// The OTLP -> OTLP path never decodes into objects: decoding and re-encoding would drop fields
// this schema does not know (newer OTLP versions) and costs most of the CPU of a relay. Instead
// the walker checks the framing down to each span, counts spans, and reports the byte offsets of
// the fields processors need (trace IDs, start times, links, resource attributes). Rewriting a
// fixed-size field (a 16-byte trace ID) is done in place; adding or removing bytes re-frames the
// enclosing length prefixes (see splice.ts). Field numbers: see the table in otlp-schema.ts.

export class WireFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireFormatError';
  }
}

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

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

  /** Reads a field tag; returns (fieldNumber << 3 | wireType) as one number. */
  tag(): number {
    const t = this.varint();
    if (t >>> 3 === 0) throw new WireFormatError('field number 0');
    return t;
  }

  /** Reads a LEN prefix and returns the end offset of the payload. */
  lenEnd(): number {
    const len = this.varint();
    const e = this.pos + len;
    if (e > this.end) throw new WireFormatError(`length ${len} runs past the end of the message`);
    return e;
  }

  /** Skips a field's payload according to its wire type. */
  skip(wireType: number): void {
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
      default:
        // Groups (3, 4) are not used by OTLP; 6 and 7 are invalid.
        throw new WireFormatError(`unsupported wire type ${wireType}`);
    }
  }

  advance(n: number): void {
    if (this.pos + n > this.end) throw new WireFormatError('truncated fixed-size field');
    this.pos += n;
  }

  /** Reads a little-endian fixed64 as a number of nanoseconds (exact to ~256 ns at current epochs). */
  fixed64AsNumber(): number {
    const p = this.pos;
    this.advance(8);
    const b = this.buf;
    const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
    const hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16)) + b[p + 7]! * 0x1000000;
    return hi * 0x100000000 + lo;
  }
}

/** What a visitor learns about one span; offsets are into the walked buffer. */
export interface SpanLocation {
  /** Offset of the 16 trace ID bytes, or -1 when the span has no (or a malformed) trace ID. */
  traceIdOffset: number;
  /** Start time in Unix nanoseconds as a number (exact to ~256 ns), or 0 when absent. */
  startTimeUnixNano: number;
  /** Offset of the 8 start-time bytes (fixed64, little-endian) for exact reads, or -1. */
  startTimeOffset: number;
  /** Offsets of each link's 16 trace ID bytes. Empty in the common case (shared array: copy to keep). */
  linkTraceIdOffsets: readonly number[];
  /** Span start and end offsets (the span's payload, after its LEN prefix). */
  start: number;
  end: number;
}

export interface TraceWalkVisitor {
  /** Called for each ResourceSpans with the payload range of its Resource (or -1, -1 when absent). */
  resource?(resourceStart: number, resourceEnd: number, resourceSpansStart: number, resourceSpansEnd: number): void;
  span?(loc: SpanLocation): void;
}

const TAG_RESOURCE_SPANS = (1 << 3) | WIRE_LEN;
const TAG_RS_RESOURCE = (1 << 3) | WIRE_LEN;
const TAG_RS_SCOPE_SPANS = (2 << 3) | WIRE_LEN;
const TAG_SS_SPAN = (2 << 3) | WIRE_LEN;
const TAG_SPAN_TRACE_ID = (1 << 3) | WIRE_LEN;
const TAG_SPAN_SPAN_ID = (2 << 3) | WIRE_LEN;
const TAG_SPAN_PARENT_ID = (4 << 3) | WIRE_LEN;
const TAG_SPAN_START = (7 << 3) | WIRE_I64;
const TAG_SPAN_LINK = (13 << 3) | WIRE_LEN;
const TAG_LINK_TRACE_ID = (1 << 3) | WIRE_LEN;

const NO_LINKS: readonly number[] = Object.freeze([]);

/**
 * Walks an ExportTraceServiceRequest, validating framing down to span fields, and returns the
 * number of spans. Throws WireFormatError on malformed input (wrong wire type for a known field,
 * truncation, a trace ID that is not 16 bytes or a span ID that is not 8 bytes, as the collector's
 * pdata rejects them). Unknown fields at any level are skipped, not rejected.
 */
export function walkTraceRequest(buf: Uint8Array, visitor?: TraceWalkVisitor): number {
  const r = new WireReader(buf);
  let spans = 0;
  const loc: SpanLocation = { traceIdOffset: -1, startTimeUnixNano: 0, startTimeOffset: -1, linkTraceIdOffsets: NO_LINKS, start: 0, end: 0 };
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag !== TAG_RESOURCE_SPANS) {
      expectKnownWireType(tag, 1, WIRE_LEN, 'ExportTraceServiceRequest.resource_spans');
      r.skip(tag & 7);
      continue;
    }
    const rsEnd = r.lenEnd();
    const rsStart = r.pos;
    const outerEnd = r.end;
    r.end = rsEnd;
    let resStart = -1;
    let resEnd = -1;
    while (r.pos < rsEnd) {
      const t = r.tag();
      if (t === TAG_RS_RESOURCE) {
        resEnd = r.lenEnd();
        resStart = r.pos;
        r.pos = resEnd;
      } else if (t === TAG_RS_SCOPE_SPANS) {
        const ssEnd = r.lenEnd();
        r.end = ssEnd;
        while (r.pos < ssEnd) {
          const st = r.tag();
          if (st === TAG_SS_SPAN) {
            const spanEnd = r.lenEnd();
            spans++;
            walkSpan(r, spanEnd, loc);
            visitor?.span?.(loc);
          } else {
            expectKnownWireType(st, 2, WIRE_LEN, 'ScopeSpans.spans');
            r.skip(st & 7);
          }
        }
        r.end = rsEnd;
      } else {
        expectKnownWireType(t, 1, WIRE_LEN, 'ResourceSpans.resource');
        expectKnownWireType(t, 2, WIRE_LEN, 'ResourceSpans.scope_spans');
        r.skip(t & 7);
      }
    }
    r.end = outerEnd;
    visitor?.resource?.(resStart, resEnd, rsStart, rsEnd);
  }
  return spans;
}

function walkSpan(r: WireReader, spanEnd: number, loc: SpanLocation): void {
  const outerEnd = r.end;
  loc.start = r.pos;
  loc.end = spanEnd;
  loc.traceIdOffset = -1;
  loc.startTimeUnixNano = 0;
  loc.startTimeOffset = -1;
  loc.linkTraceIdOffsets = NO_LINKS;
  let links: number[] | undefined;
  r.end = spanEnd;
  while (r.pos < spanEnd) {
    const t = r.tag();
    switch (t) {
      case TAG_SPAN_TRACE_ID: {
        const e = r.lenEnd();
        checkIdLength(e - r.pos, 16, 'trace_id');
        if (e - r.pos === 16) loc.traceIdOffset = r.pos;
        r.pos = e;
        break;
      }
      case TAG_SPAN_SPAN_ID: {
        const e = r.lenEnd();
        checkIdLength(e - r.pos, 8, 'span_id');
        r.pos = e;
        break;
      }
      case TAG_SPAN_PARENT_ID: {
        const e = r.lenEnd();
        checkIdLength(e - r.pos, 8, 'parent_span_id');
        r.pos = e;
        break;
      }
      case TAG_SPAN_START:
        loc.startTimeOffset = r.pos;
        loc.startTimeUnixNano = r.fixed64AsNumber();
        break;
      case TAG_SPAN_LINK: {
        const linkEnd = r.lenEnd();
        r.end = linkEnd;
        while (r.pos < linkEnd) {
          const lt = r.tag();
          if (lt === TAG_LINK_TRACE_ID) {
            const e = r.lenEnd();
            checkIdLength(e - r.pos, 16, 'link trace_id');
            if (e - r.pos === 16) (links ??= []).push(r.pos);
            r.pos = e;
          } else {
            r.skip(lt & 7);
          }
        }
        r.end = spanEnd;
        break;
      }
      default:
        if (t >>> 3 <= 16) expectSpanWireType(t);
        r.skip(t & 7);
    }
  }
  if (links !== undefined) loc.linkTraceIdOffsets = links;
  r.end = outerEnd;
}

function checkIdLength(len: number, want: number, field: string): void {
  // An empty ID is "absent" (proto3 default); any other length is invalid, as in the collector.
  if (len !== 0 && len !== want) throw new WireFormatError(`span ${field} must be ${want} bytes, got ${len}`);
}

// Wire types of Span fields 1..16, index = field number.
const SPAN_WIRE_TYPES = [-1, 2, 2, 2, 2, 2, 0, 1, 1, 2, 0, 2, 0, 2, 0, 2, 5];

function expectSpanWireType(tag: number): void {
  const field = tag >>> 3;
  if (SPAN_WIRE_TYPES[field] !== (tag & 7)) {
    throw new WireFormatError(`Span field ${field} has wire type ${tag & 7}, expected ${SPAN_WIRE_TYPES[field]}`);
  }
}

function expectKnownWireType(tag: number, field: number, wireType: number, name: string): void {
  if (tag >>> 3 === field && (tag & 7) !== wireType) {
    throw new WireFormatError(`${name} has wire type ${tag & 7}, expected ${wireType}`);
  }
}

/** Counts spans without visiting them. */
export function countSpans(buf: Uint8Array): number {
  return walkTraceRequest(buf);
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
