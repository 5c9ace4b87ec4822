// One validated, indexed view of an encoded ExportTraceServiceRequest: where each ResourceSpans,
// Resource, ScopeSpans, InstrumentationScope and Span sits in the bytes, with each span's trace ID,
// start time and link trace IDs, plus counts. Receivers build it once while validating a request
// to the leaves (validateTraceRequest); processors query it instead of walking the bytes again
// with their own tag constants. Data built by processors is indexed lazily, framing only
// (indexTraceRequest): this process wrote it from validated parts.
//
// Layout: one Int32Array per level, a fixed number of slots per element (no object per span, no
// allocation per attribute); offsets are into the request's bytes, -1 meaning absent. A walk fills
// module-level scratch arrays (walks are synchronous) and copies out the used part once.
import {
  RESOURCE_SPANS_FIELDS,
  SCOPE_SPANS_FIELDS,
  SPAN_FIELDS,
  TAG_RESOURCE_SPANS_RESOURCE,
  TAG_RESOURCE_SPANS_SCHEMA_URL,
  TAG_RESOURCE_SPANS_SCOPE_SPANS,
  TAG_SCOPE_SPANS_SCHEMA_URL,
  TAG_SCOPE_SPANS_SCOPE,
  TAG_SCOPE_SPANS_SPANS,
  TAG_SPAN_ATTRIBUTES,
  TAG_SPAN_DROPPED_ATTRIBUTES_COUNT,
  TAG_SPAN_DROPPED_EVENTS_COUNT,
  TAG_SPAN_DROPPED_LINKS_COUNT,
  TAG_SPAN_END_TIME,
  TAG_SPAN_EVENTS,
  TAG_SPAN_FLAGS,
  TAG_SPAN_KIND,
  TAG_SPAN_LINKS,
  TAG_SPAN_NAME,
  TAG_SPAN_PARENT_SPAN_ID,
  TAG_SPAN_SPAN_ID,
  TAG_SPAN_START_TIME,
  TAG_SPAN_STATUS,
  TAG_SPAN_TRACE_ID,
  TAG_SPAN_TRACE_STATE,
  TAG_TRACE_REQUEST_RESOURCE_SPANS,
  TRACE_REQUEST_FIELDS,
} from './fields.ts';
import { lenOfSize, WireChecker } from './validate.ts';
import { readFixed64AsNumber, WireFormatError } from './wire.ts';

// Slots per ResourceSpans.
const RS_FIELD = 0; // offset of the resource_spans tag
const RS_START = 1; // payload start
const RS_END = 2;
const RS_RESOURCE_FIELD = 3; // offset of the (first) resource tag, or -1
const RS_RESOURCE_START = 4; // Resource payload, or -1
const RS_RESOURCE_END = 5;
const RS_FIRST_SCOPE = 6; // index of its first ScopeSpans
const RS_SCOPES = 7; // number of its ScopeSpans
const RS_SLOTS = 8;

// Slots per ScopeSpans.
const SS_FIELD = 0;
const SS_START = 1;
const SS_END = 2;
const SS_SCOPE_START = 3; // InstrumentationScope payload, or -1
const SS_SCOPE_END = 4;
const SS_RESOURCE = 5; // index of its ResourceSpans
const SS_FIRST_SPAN = 6;
const SS_SPANS = 7;
const SS_SLOTS = 8;

// Slots per Span.
const SP_FIELD = 0;
const SP_START = 1;
const SP_END = 2;
const SP_TRACE_ID = 3; // offset of the 16 trace ID bytes, or -1 (absent)
const SP_START_TIME = 4; // offset of the 8 start-time bytes (fixed64 LE), or -1
const SP_SCOPE = 5; // index of its ScopeSpans
const SP_FIRST_LINK = 6; // index into the link trace-ID offsets
const SP_LINKS = 7; // links with a 16-byte trace ID
const SP_SLOTS = 8;

export class TraceView {
  readonly resourceSpansCount: number;
  readonly scopeSpansCount: number;
  readonly spanCount: number;
  private readonly rs: Int32Array;
  private readonly ss: Int32Array;
  private readonly sp: Int32Array;
  private readonly links: Int32Array;

  constructor(rs: Int32Array, ss: Int32Array, sp: Int32Array, links: Int32Array) {
    this.rs = rs;
    this.ss = ss;
    this.sp = sp;
    this.links = links;
    this.resourceSpansCount = rs.length / RS_SLOTS;
    this.scopeSpansCount = ss.length / SS_SLOTS;
    this.spanCount = sp.length / SP_SLOTS;
  }

  // ResourceSpans `i` (0 <= i < resourceSpansCount).
  /** Offset of the field (its tag), for copying it whole. */
  resourceSpansField(i: number): number {
    return this.rs[i * RS_SLOTS + RS_FIELD]!;
  }
  resourceSpansStart(i: number): number {
    return this.rs[i * RS_SLOTS + RS_START]!;
  }
  resourceSpansEnd(i: number): number {
    return this.rs[i * RS_SLOTS + RS_END]!;
  }
  /** Offset of the Resource field's tag, or -1 when the ResourceSpans has none. */
  resourceField(i: number): number {
    return this.rs[i * RS_SLOTS + RS_RESOURCE_FIELD]!;
  }
  /** The Resource payload (after its length prefix), or -1, -1. */
  resourceStart(i: number): number {
    return this.rs[i * RS_SLOTS + RS_RESOURCE_START]!;
  }
  resourceEnd(i: number): number {
    return this.rs[i * RS_SLOTS + RS_RESOURCE_END]!;
  }
  /** Its ScopeSpans are firstScopeSpans(i) .. firstScopeSpans(i) + scopeSpansIn(i) - 1. */
  firstScopeSpans(i: number): number {
    return this.rs[i * RS_SLOTS + RS_FIRST_SCOPE]!;
  }
  scopeSpansIn(i: number): number {
    return this.rs[i * RS_SLOTS + RS_SCOPES]!;
  }

  // ScopeSpans `j`.
  scopeSpansField(j: number): number {
    return this.ss[j * SS_SLOTS + SS_FIELD]!;
  }
  scopeSpansStart(j: number): number {
    return this.ss[j * SS_SLOTS + SS_START]!;
  }
  scopeSpansEnd(j: number): number {
    return this.ss[j * SS_SLOTS + SS_END]!;
  }
  /** The InstrumentationScope payload, or -1, -1. */
  scopeStart(j: number): number {
    return this.ss[j * SS_SLOTS + SS_SCOPE_START]!;
  }
  scopeEnd(j: number): number {
    return this.ss[j * SS_SLOTS + SS_SCOPE_END]!;
  }
  /** Index of the ResourceSpans holding ScopeSpans `j`. */
  resourceSpansOf(j: number): number {
    return this.ss[j * SS_SLOTS + SS_RESOURCE]!;
  }
  /** Its spans are firstSpan(j) .. firstSpan(j) + spansIn(j) - 1. */
  firstSpan(j: number): number {
    return this.ss[j * SS_SLOTS + SS_FIRST_SPAN]!;
  }
  spansIn(j: number): number {
    return this.ss[j * SS_SLOTS + SS_SPANS]!;
  }

  // Span `k`.
  spanField(k: number): number {
    return this.sp[k * SP_SLOTS + SP_FIELD]!;
  }
  /** The span's payload (after its length prefix). */
  spanStart(k: number): number {
    return this.sp[k * SP_SLOTS + SP_START]!;
  }
  spanEnd(k: number): number {
    return this.sp[k * SP_SLOTS + SP_END]!;
  }
  /** Offset of the span's 16 trace ID bytes, or -1 when it has none. */
  traceIdOffset(k: number): number {
    return this.sp[k * SP_SLOTS + SP_TRACE_ID]!;
  }
  /** Offset of the span's start time (fixed64, little-endian Unix nanoseconds), or -1. */
  startTimeOffset(k: number): number {
    return this.sp[k * SP_SLOTS + SP_START_TIME]!;
  }
  /** Index of the ScopeSpans holding span `k`. */
  scopeSpansOf(k: number): number {
    return this.sp[k * SP_SLOTS + SP_SCOPE]!;
  }
  /** Links of span `k` that carry a 16-byte trace ID. */
  linkCount(k: number): number {
    return this.sp[k * SP_SLOTS + SP_LINKS]!;
  }
  /** Offset of the 16 trace ID bytes of the span's `n`-th such link. */
  linkTraceIdOffset(k: number, n: number): number {
    return this.links[this.sp[k * SP_SLOTS + SP_FIRST_LINK]! + n]!;
  }
}

/** Start time of span `k` in Unix nanoseconds as a number (exact to ~256 ns), or 0 when absent. */
export function startTimeUnixNano(view: TraceView, buf: Uint8Array, k: number): number {
  const off = view.startTimeOffset(k);
  return off < 0 ? 0 : readFixed64AsNumber(buf, off);
}

/**
 * Validates a received request to the leaves and returns its view. Throws WireFormatError (a
 * PermanentError) naming the path of what is malformed. Unknown fields are skipped, not refused.
 */
export function validateTraceRequest(buf: Uint8Array): TraceView {
  return walk(buf, true);
}

/**
 * The view of a request this process built from validated parts (processor output, encoded
 * objects): framing only, down to spans and links. Throws WireFormatError on broken framing.
 */
export function indexTraceRequest(buf: Uint8Array): TraceView {
  return walk(buf, false);
}

/** Number of spans, from the framing. */
export function countSpans(buf: Uint8Array): number {
  return indexTraceRequest(buf).spanCount;
}

// Scratch, grown by doubling and reused by every walk.
let rsBuf = new Int32Array(16 * RS_SLOTS);
let ssBuf = new Int32Array(16 * SS_SLOTS);
let spBuf = new Int32Array(256 * SP_SLOTS);
let linkBuf = new Int32Array(64);
let rsN = 0;
let ssN = 0;
let spN = 0;
let linkN = 0;

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

// Created on first use, not at module load: wire.ts re-exports from this module, so this module
// may be evaluated before wire.ts is.
let checker: WireChecker | undefined;

function walk(buf: Uint8Array, leaves: boolean): TraceView {
  // Offsets are stored as int32.
  if (buf.length > 0x7fffffff) throw new WireFormatError('request larger than 2 GiB');
  rsN = ssN = spN = linkN = 0;
  const c = (checker ??= new WireChecker());
  c.reset(buf);
  try {
    request(c, leaves);
  } catch (err) {
    if (err instanceof WireFormatError) throw c.located(err);
    throw err;
  } finally {
    c.release();
  }
  return new TraceView(rsBuf.slice(0, rsN * RS_SLOTS), ssBuf.slice(0, ssN * SS_SLOTS), spBuf.slice(0, spN * SP_SLOTS), linkBuf.slice(0, linkN));
}

function request(c: WireChecker, leaves: boolean): void {
  const r = c.r;
  let i = 0;
  while (r.pos < r.end) {
    const field = r.pos;
    const t = r.tag();
    if (t === TAG_TRACE_REQUEST_RESOURCE_SPANS) {
      const outer = c.open('resource_spans', i++);
      resourceSpans(c, field, leaves);
      c.close(outer);
    } else {
      c.other(t, TRACE_REQUEST_FIELDS);
    }
  }
}

function resourceSpans(c: WireChecker, field: number, leaves: boolean): void {
  const r = c.r;
  if ((rsN + 1) * RS_SLOTS > rsBuf.length) rsBuf = grow(rsBuf);
  const index = rsN++;
  const o = index * RS_SLOTS;
  rsBuf[o + RS_FIELD] = field;
  rsBuf[o + RS_START] = r.pos;
  rsBuf[o + RS_END] = r.end;
  rsBuf[o + RS_RESOURCE_FIELD] = -1;
  rsBuf[o + RS_RESOURCE_START] = -1;
  rsBuf[o + RS_RESOURCE_END] = -1;
  rsBuf[o + RS_FIRST_SCOPE] = ssN;
  let scopes = 0;
  while (r.pos < r.end) {
    const f = r.pos;
    const t = r.tag();
    if (t === TAG_RESOURCE_SPANS_SCOPE_SPANS) {
      const outer = c.open('scope_spans', scopes++);
      scopeSpans(c, f, index, leaves);
      c.close(outer);
    } else if (t === TAG_RESOURCE_SPANS_RESOURCE) {
      const outer = c.open('resource', -1);
      // A second Resource field would be merged into the first by decoders; the view keeps the first.
      if (rsBuf[o + RS_RESOURCE_FIELD] === -1) {
        rsBuf[o + RS_RESOURCE_FIELD] = f;
        rsBuf[o + RS_RESOURCE_START] = r.pos;
        rsBuf[o + RS_RESOURCE_END] = r.end;
      }
      if (leaves) c.resource();
      else r.pos = r.end;
      c.close(outer);
    } else if (t === TAG_RESOURCE_SPANS_SCHEMA_URL && leaves) {
      c.string('schema_url');
    } else {
      c.other(t, RESOURCE_SPANS_FIELDS);
    }
  }
  rsBuf[o + RS_SCOPES] = scopes;
}

function scopeSpans(c: WireChecker, field: number, resource: number, leaves: boolean): void {
  const r = c.r;
  if ((ssN + 1) * SS_SLOTS > ssBuf.length) ssBuf = grow(ssBuf);
  const index = ssN++;
  const o = index * SS_SLOTS;
  ssBuf[o + SS_FIELD] = field;
  ssBuf[o + SS_START] = r.pos;
  ssBuf[o + SS_END] = r.end;
  ssBuf[o + SS_SCOPE_START] = -1;
  ssBuf[o + SS_SCOPE_END] = -1;
  ssBuf[o + SS_RESOURCE] = resource;
  ssBuf[o + SS_FIRST_SPAN] = spN;
  let spans = 0;
  while (r.pos < r.end) {
    const f = r.pos;
    const t = r.tag();
    if (t === TAG_SCOPE_SPANS_SPANS) {
      const outer = c.open('spans', spans++);
      span(c, f, index, leaves);
      c.close(outer);
    } else if (t === TAG_SCOPE_SPANS_SCOPE) {
      const outer = c.open('scope', -1);
      if (ssBuf[o + SS_SCOPE_START] === -1) {
        ssBuf[o + SS_SCOPE_START] = r.pos;
        ssBuf[o + SS_SCOPE_END] = r.end;
      }
      if (leaves) c.scope();
      else r.pos = r.end;
      c.close(outer);
    } else if (t === TAG_SCOPE_SPANS_SCHEMA_URL && leaves) {
      c.string('schema_url');
    } else {
      c.other(t, SCOPE_SPANS_FIELDS);
    }
  }
  ssBuf[o + SS_SPANS] = spans;
}

function span(c: WireChecker, field: number, scope: number, leaves: boolean): void {
  const r = c.r;
  if ((spN + 1) * SP_SLOTS > spBuf.length) spBuf = grow(spBuf);
  const o = spN++ * SP_SLOTS;
  spBuf[o + SP_FIELD] = field;
  spBuf[o + SP_START] = r.pos;
  spBuf[o + SP_END] = r.end;
  spBuf[o + SP_TRACE_ID] = -1;
  spBuf[o + SP_START_TIME] = -1;
  spBuf[o + SP_SCOPE] = scope;
  spBuf[o + SP_FIRST_LINK] = linkN;
  let attrs = 0;
  let events = 0;
  let links = 0;
  while (r.pos < r.end) {
    const t = r.tag();
    // Ordered by how often the fields occur in a span.
    if (t === TAG_SPAN_ATTRIBUTES) {
      if (leaves) c.attribute('attributes', attrs++);
      else r.pos = r.lenEnd();
    } else if (t === TAG_SPAN_TRACE_ID) {
      // Repeated scalar fields: the last one wins, in decoders and here.
      spBuf[o + SP_TRACE_ID] = leaves ? c.id('trace_id', 16) : lenOfSize(r, 16);
    } else if (t === TAG_SPAN_START_TIME) {
      spBuf[o + SP_START_TIME] = r.pos;
      r.advance(8);
    } else if (!leaves && t !== TAG_SPAN_LINKS) {
      r.skip(t & 7, t >>> 3);
    } else if (t === TAG_SPAN_SPAN_ID) {
      c.id('span_id', 8);
    } else if (t === TAG_SPAN_PARENT_SPAN_ID) {
      c.id('parent_span_id', 8);
    } else if (t === TAG_SPAN_NAME) {
      c.string('name');
    } else if (t === TAG_SPAN_END_TIME || t === TAG_SPAN_FLAGS) {
      r.advance(t === TAG_SPAN_FLAGS ? 4 : 8);
    } else if (t === TAG_SPAN_KIND || t === TAG_SPAN_DROPPED_ATTRIBUTES_COUNT || t === TAG_SPAN_DROPPED_EVENTS_COUNT || t === TAG_SPAN_DROPPED_LINKS_COUNT) {
      r.varint32();
    } else if (t === TAG_SPAN_TRACE_STATE) {
      c.string('trace_state');
    } else if (t === TAG_SPAN_STATUS) {
      const outer = c.open('status', -1);
      c.status();
      c.close(outer);
    } else if (t === TAG_SPAN_EVENTS) {
      const outer = c.open('events', events++);
      c.event();
      c.close(outer);
    } else if (t === TAG_SPAN_LINKS) {
      const outer = c.open('links', links++);
      const off = c.link(leaves);
      c.close(outer);
      if (off >= 0) {
        if (linkN >= linkBuf.length) linkBuf = grow(linkBuf);
        linkBuf[linkN++] = off;
      }
    } else {
      c.other(t, SPAN_FIELDS);
    }
  }
  spBuf[o + SP_LINKS] = linkN - spBuf[o + SP_FIRST_LINK]!;
}
