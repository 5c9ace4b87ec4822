// Splitting an encoded ExportTraceServiceRequest into requests that respect a span count and a
// byte size, at resource / scope / span boundaries. Used by the batch processor
// (`send_batch_max_size`, `send_batch_max_bytes`) and by every exporter that caps its requests (a
// backend's request limit, X-Ray's quotas, halving after an HTTP 413 / gRPC RESOURCE_EXHAUSTED).
//
// Each part repeats the Resource (and every other non-scope field of the ResourceSpans) and the
// InstrumentationScope (and every other non-span field of the ScopeSpans) of the spans it holds,
// copied as raw bytes, so unknown fields survive; only the enclosing length prefixes are new. Top
// level fields other than resource_spans (none in OTLP today) go with the first part.
import { lenField, lenFieldHeader } from './splice.ts';
import type { TraceView } from './trace-view.ts';
import { varintSize, WireReader } from './wire.ts';

import {
  TAG_RESOURCE_SPANS_SCOPE_SPANS as TAG_RS_SCOPE_SPANS,
  TAG_SCOPE_SPANS_SPANS as TAG_SS_SPAN,
  TAG_TRACE_REQUEST_RESOURCE_SPANS as TAG_RESOURCE_SPANS,
} from './fields.ts';

export interface TracePart {
  bytes: Uint8Array;
  spans: number;
}

/** Size on the wire of a LEN field with a one-byte tag (fields 1 and 2) and `n` payload bytes. */
function lenFieldSize(n: number): number {
  return 1 + varintSize(n) + n;
}

/** A message under construction: its payload pieces and their length. */
class Message {
  readonly parts: Uint8Array[] = [];
  length = 0;

  add(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.length += bytes.length;
  }

  /** Appends this message as a LEN field of `field` to `out`. */
  writeAsField(out: Message, field: number): void {
    out.add(lenFieldHeader(field, this.length));
    for (const p of this.parts) out.add(p);
  }
}

/**
 * Builds the parts. The open ResourceSpans and ScopeSpans are kept apart from the finished part
 * of the request so that the exact size of "request + this span" is known before adding it.
 */
class PartBuilder {
  private readonly out: TracePart[] = [];
  private req = new Message();
  private rs: Message | undefined;
  private ss: Message | undefined;
  private spans = 0;
  /** Header bytes (non-child fields) of the open ResourceSpans and ScopeSpans, repeated per part. */
  private rsHeader: Uint8Array[] = [];
  private ssHeader: Uint8Array[] = [];
  private readonly maxSpans: number;
  private readonly maxBytes: number;

  constructor(maxSpans: number, maxBytes: number) {
    this.maxSpans = maxSpans > 0 ? maxSpans : Infinity;
    this.maxBytes = maxBytes > 0 ? maxBytes : Infinity;
  }

  /** Bytes outside resource_spans: they ride in the current (first) part. */
  addTopLevel(bytes: Uint8Array): void {
    this.req.add(bytes);
  }

  openResource(header: Uint8Array[]): void {
    this.rsHeader = header;
    this.rs = undefined;
  }

  openScope(header: Uint8Array[]): void {
    this.ssHeader = header;
    this.ss = undefined;
  }

  /** A ScopeSpans with no span, or a ResourceSpans with no scope: carried as it is. */
  addEmptyScope(): void {
    if (this.spans > 0 && this.sizeWith(0) > this.maxBytes) this.emit();
    this.ensureScope();
  }

  addEmptyResource(): void {
    if (this.spans > 0 && this.req.length + lenFieldSize(sum(this.rsHeader)) > this.maxBytes) this.emit();
    this.ensureResource();
  }

  /**
   * A whole ResourceSpans field (tag to end) of `spans` spans, added as its original bytes when it
   * fits a part on its own; false when it does not (the caller then splits it span by span).
   */
  addWholeResource(field: Uint8Array, spans: number): boolean {
    if (spans > this.maxSpans || field.length > this.maxBytes) return false;
    if (this.spans > 0 && (this.spans + spans > this.maxSpans || this.req.length + field.length > this.maxBytes)) this.emit();
    // Span-less fields ride in the current part: with them it may not fit whole any more.
    if (this.req.length + field.length > this.maxBytes) return false;
    this.req.add(field);
    this.spans += spans;
    return true;
  }

  addSpan(field: Uint8Array): void {
    if (this.spans > 0 && (this.spans + 1 > this.maxSpans || this.sizeWith(field.length) > this.maxBytes)) this.emit();
    this.ensureScope();
    this.ss!.add(field);
    this.spans++;
  }

  closeScope(): void {
    if (this.ss !== undefined) this.ss.writeAsField(this.rs!, 2);
    this.ss = undefined;
  }

  closeResource(): void {
    this.closeScope();
    if (this.rs !== undefined) this.rs.writeAsField(this.req, 1);
    this.rs = undefined;
  }

  finish(): TracePart[] {
    this.closeResource();
    if (this.req.length > 0 || this.out.length === 0) this.out.push({ bytes: joined(this.req), spans: this.spans });
    return this.out;
  }

  private ensureResource(): void {
    if (this.rs !== undefined) return;
    this.rs = new Message();
    for (const h of this.rsHeader) this.rs.add(h);
  }

  private ensureScope(): void {
    this.ensureResource();
    if (this.ss !== undefined) return;
    this.ss = new Message();
    for (const h of this.ssHeader) this.ss.add(h);
  }

  /** Exact size of the part if a span field of `n` bytes were added to it now. */
  private sizeWith(n: number): number {
    const ssLen = (this.ss?.length ?? sum(this.ssHeader)) + n;
    const rsLen = (this.rs?.length ?? sum(this.rsHeader)) + lenFieldSize(ssLen);
    return this.req.length + lenFieldSize(rsLen);
  }

  /** Ends the current part and reopens the current resource and scope in a new one. */
  private emit(): void {
    const reopenScope = this.ss !== undefined;
    this.closeResource();
    this.out.push({ bytes: joined(this.req), spans: this.spans });
    this.req = new Message();
    this.spans = 0;
    if (reopenScope) this.ensureScope();
  }
}

/**
 * A message's bytes: a view of the request being split when its pieces lie next to each other
 * there (a run of whole ResourceSpans), else one copy.
 */
function joined(m: Message): Uint8Array {
  const first = m.parts[0];
  if (first === undefined) return Buffer.alloc(0);
  let end = first.byteOffset + first.length;
  for (let i = 1; i < m.parts.length; i++) {
    const p = m.parts[i]!;
    if (p.buffer !== first.buffer || p.byteOffset !== end) return Buffer.concat(m.parts, m.length);
    end += p.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, m.length);
}

function sum(parts: Uint8Array[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

/** Gets a too-large span's payload range; returns its new payload, or undefined to drop the span. */
export type SpanEdit = (buf: Uint8Array, start: number, end: number) => Uint8Array | undefined;

interface Walk {
  maxSpanBytes: number;
  edit: SpanEdit | undefined;
  edited: number;
  dropped: number;
}

/**
 * Splits `buf` into requests of at most `maxSpans` spans and `maxBytes` bytes (0 = no bound). A
 * span that alone exceeds `maxBytes` goes alone in its part (the caller decides what to do with
 * it). Returns one part holding `buf` itself when it already fits. Throws WireFormatError on
 * malformed input (callers pass validated requests).
 */
export function splitTraceRequest(buf: Uint8Array, spanCount: number, maxSpans: number, maxBytes: number): TracePart[] {
  if ((maxSpans <= 0 || spanCount <= maxSpans) && (maxBytes <= 0 || buf.length <= maxBytes)) return [{ bytes: buf, spans: spanCount }];
  return walkRequest(buf, new PartBuilder(maxSpans, maxBytes), { maxSpanBytes: Infinity, edit: undefined, edited: 0, dropped: 0 });
}

export interface EditResult {
  part: TracePart;
  edited: number;
  dropped: number;
}

/**
 * Applies `edit` to every span whose payload is larger than `maxSpanBytes` (a backend's per-span
 * limit); undefined when there is none, the common case, read off the request's view.
 */
export function editLargeSpans(buf: Uint8Array, view: TraceView, maxSpanBytes: number, edit: SpanEdit): EditResult | undefined {
  if (!hasSpanOver(view, maxSpanBytes)) return undefined;
  const walk: Walk = { maxSpanBytes, edit, edited: 0, dropped: 0 };
  const [part] = walkRequest(buf, new PartBuilder(0, 0), walk);
  return { part: part!, edited: walk.edited, dropped: walk.dropped };
}

function hasSpanOver(view: TraceView, max: number): boolean {
  for (let k = 0; k < view.spanCount; k++) if (view.spanEnd(k) - view.spanStart(k) > max) return true;
  return false;
}

function walkRequest(buf: Uint8Array, b: PartBuilder, walk: Walk): TracePart[] {
  const r = new WireReader(buf);
  while (r.pos < r.end) {
    const fieldStart = r.pos;
    const tag = r.tag();
    if (tag !== TAG_RESOURCE_SPANS) {
      r.skip(tag & 7);
      b.addTopLevel(buf.subarray(fieldStart, r.pos));
      continue;
    }
    const rsEnd = r.lenEnd();
    // A batch is mostly whole ResourceSpans (one or more per request it concatenated): each that
    // fits a part goes as it is, so a split batch is views of it rather than a second copy.
    if (walk.edit === undefined && b.addWholeResource(buf.subarray(fieldStart, rsEnd), countResourceSpans(buf, r.pos, rsEnd))) {
      r.pos = rsEnd;
      continue;
    }
    splitResourceSpans(buf, r.pos, rsEnd, b, walk);
    r.pos = rsEnd;
  }
  return b.finish();
}

/** Spans in the ResourceSpans payload [start, end): reads tags and lengths only. */
function countResourceSpans(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  const r = new WireReader(buf, start, end);
  while (r.pos < end) {
    const tag = r.tag();
    if (tag !== TAG_RS_SCOPE_SPANS) {
      r.skip(tag & 7);
      continue;
    }
    const ssEnd = r.lenEnd();
    const s = new WireReader(buf, r.pos, ssEnd);
    while (s.pos < ssEnd) {
      const t = s.tag();
      if (t === TAG_SS_SPAN) n++;
      s.skip(t & 7);
    }
    r.pos = ssEnd;
  }
  return n;
}

function splitResourceSpans(buf: Uint8Array, start: number, end: number, b: PartBuilder, walk: Walk): void {
  // Header fields may follow scope_spans on the wire: collect them first so each part gets them.
  const header: Uint8Array[] = [];
  const scopes: [number, number][] = [];
  const r = new WireReader(buf, start, end);
  while (r.pos < end) {
    const fieldStart = r.pos;
    const tag = r.tag();
    if (tag === TAG_RS_SCOPE_SPANS) {
      const e = r.lenEnd();
      scopes.push([r.pos, e]);
      r.pos = e;
    } else {
      r.skip(tag & 7);
      header.push(buf.subarray(fieldStart, r.pos));
    }
  }
  b.openResource(header);
  if (scopes.length === 0) b.addEmptyResource();
  for (const [s, e] of scopes) splitScopeSpans(buf, s, e, b, walk);
  b.closeResource();
}

function splitScopeSpans(buf: Uint8Array, start: number, end: number, b: PartBuilder, walk: Walk): void {
  const header: Uint8Array[] = [];
  const spans: Uint8Array[] = [];
  const r = new WireReader(buf, start, end);
  while (r.pos < end) {
    const fieldStart = r.pos;
    const tag = r.tag();
    if (tag !== TAG_SS_SPAN) {
      r.skip(tag & 7);
      header.push(buf.subarray(fieldStart, r.pos));
      continue;
    }
    const e = r.lenEnd();
    if (e - r.pos <= walk.maxSpanBytes || walk.edit === undefined) {
      spans.push(buf.subarray(fieldStart, e));
    } else {
      const payload = walk.edit(buf, r.pos, e);
      if (payload === undefined) walk.dropped++;
      else {
        walk.edited++;
        spans.push(lenField(TAG_SS_SPAN, payload));
      }
    }
    r.pos = e;
  }
  b.openScope(header);
  if (spans.length === 0) b.addEmptyScope();
  for (const s of spans) b.addSpan(s);
  b.closeScope();
}
