// Edits of an encoded ExportTraceServiceRequest that change its length: dropping spans, appending
// fields to spans and replacing a ResourceSpans' Resource. Every field we do not touch is copied as raw bytes, so
// unknown fields survive (the OTLP -> OTLP path stays lossless); the enclosing length prefixes
// are re-framed. Field numbers: see the table in otlp-schema.ts.
import { varintSize, walkTraceRequest, WIRE_LEN, WireReader, writeVarint, type SpanLocation } from './wire.ts';

const TAG_RESOURCE_SPANS = (1 << 3) | WIRE_LEN;
const TAG_RS_RESOURCE = (1 << 3) | WIRE_LEN;
const TAG_RS_SCOPE_SPANS = (2 << 3) | WIRE_LEN;
const TAG_SS_SPAN = (2 << 3) | WIRE_LEN;

/** Pieces of an output message; concatenated once at the end. */
type Parts = Uint8Array[];

function partsLength(parts: Parts): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

/** Tag and length prefix of a LEN field. */
export function lenFieldHeader(field: number, length: number): Uint8Array {
  const tag = (field << 3) | WIRE_LEN;
  const out = new Uint8Array(varintSize(tag) + varintSize(length));
  writeVarint(out, writeVarint(out, 0, tag), length);
  return out;
}

function pushLenField(out: Parts, field: number, parts: Parts): void {
  out.push(lenFieldHeader(field, partsLength(parts)), ...parts);
}

function concat(parts: Parts): Uint8Array {
  return Buffer.concat(parts, partsLength(parts));
}

/** An encoded KeyValue with a string value: { 1: key, 2: AnyValue { 1: string_value } }. */
export function encodeStringKeyValue(key: string, value: string): Uint8Array {
  const k = Buffer.from(key, 'utf8');
  const v = Buffer.from(value, 'utf8');
  const anyValue = concat([lenFieldHeader(1, v.length), v]);
  return concat([lenFieldHeader(1, k.length), k, lenFieldHeader(2, anyValue.length), anyValue]);
}

export interface FilterResult {
  bytes: Uint8Array;
  dropped: number;
}

/** What a rebuild callback returns for one child field: keep its bytes, drop it, or new payload parts. */
const COPY = 'copy';
type ChildEdit = typeof COPY | Parts | undefined;

interface Rebuilt {
  parts: Parts;
  /** Child fields seen, and those kept (copied or rebuilt). */
  children: number;
  kept: number;
}

/**
 * Copies the fields of the message payload at [start, end), passing every `childTag` field's
 * payload range to `child`: COPY keeps its bytes as they are, undefined drops the field, parts
 * replace its payload (the length prefix is re-framed). Other fields are copied byte for byte.
 */
function rebuild(buf: Uint8Array, start: number, end: number, childTag: number, child: (s: number, e: number) => ChildEdit): Rebuilt {
  const parts: Parts = [];
  let children = 0;
  let kept = 0;
  const r = new WireReader(buf, start, end);
  while (r.pos < end) {
    const fieldStart = r.pos;
    const tag = r.tag();
    if (tag !== childTag) {
      r.skip(tag & 7);
      parts.push(buf.subarray(fieldStart, r.pos));
      continue;
    }
    const childEnd = r.lenEnd();
    children++;
    const edit = child(r.pos, childEnd);
    if (edit === COPY) parts.push(buf.subarray(fieldStart, childEnd));
    else if (edit !== undefined) pushLenField(parts, childTag >>> 3, edit);
    if (edit !== undefined) kept++;
    r.pos = childEnd;
  }
  return { parts, children, kept };
}

/** A message whose children were all dropped is dropped too (an emptied scope or resource). */
function prunedParts(b: Rebuilt): Parts | undefined {
  return b.children > 0 && b.kept === 0 ? undefined : b.parts;
}

/** Is one of the sorted offsets in [from, to)? Lets untouched ResourceSpans/ScopeSpans be copied whole. */
function anyWithin(sorted: readonly number[], from: number, to: number): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo]! < to;
}

/**
 * Rebuilds the request applying `spanEdit` to the spans whose payload starts at one of `starts`
 * (sorted); ResourceSpans and ScopeSpans holding none of them are copied whole. With `prune`, a
 * ScopeSpans or ResourceSpans left without spans is removed.
 */
function editSpans(buf: Uint8Array, starts: readonly number[], spanEdit: (s: number, e: number) => ChildEdit, prune: boolean): Uint8Array {
  const keep = (b: Rebuilt) => (prune ? prunedParts(b) : b.parts);
  const scope = (s: number, e: number): ChildEdit => (anyWithin(starts, s, e) ? keep(rebuild(buf, s, e, TAG_SS_SPAN, spanEdit)) : COPY);
  const resource = (s: number, e: number): ChildEdit => (anyWithin(starts, s, e) ? keep(rebuild(buf, s, e, TAG_RS_SCOPE_SPANS, scope)) : COPY);
  return concat(rebuild(buf, 0, buf.length, TAG_RESOURCE_SPANS, resource).parts);
}

/**
 * Drops the spans for which `drop(start, end, loc)` (the span's payload range, and what the walker
 * found in it: trace ID and start-time offsets) is true. ScopeSpans and
 * ResourceSpans left without spans are removed too. Returns undefined when nothing is dropped
 * (the caller keeps the original bytes). Throws WireFormatError on malformed input.
 */
export function filterSpans(buf: Uint8Array, drop: (start: number, end: number, loc: SpanLocation) => boolean): FilterResult | undefined {
  const dropped: number[] = [];
  walkTraceRequest(buf, {
    span(loc) {
      if (drop(loc.start, loc.end, loc)) dropped.push(loc.start);
    },
  });
  if (dropped.length === 0) return undefined;
  const set = new Set(dropped);
  const bytes = editSpans(buf, dropped, (s) => (set.has(s) ? undefined : COPY), true);
  return { bytes, dropped: dropped.length };
}

/**
 * Appends encoded fields to chosen spans: `appends` maps a span's payload start offset
 * (SpanLocation.start) to the bytes (tag and value) to add at its end. A field appended at the end
 * of a message is valid protobuf (fields may come in any order; repeated fields concatenate), so
 * only the enclosing length prefixes are re-framed (the tracecontext processor adds the
 * original-trace-ID attribute this way).
 */
export function appendToSpans(buf: Uint8Array, appends: ReadonlyMap<number, Uint8Array>): Uint8Array {
  const starts = [...appends.keys()].sort((a, b) => a - b);
  return editSpans(
    buf,
    starts,
    (s, e) => {
      const extra = appends.get(s);
      return extra === undefined ? COPY : [buf.subarray(s, e), extra];
    },
    false,
  );
}

/**
 * Replaces the Resource of every ResourceSpans with `rewrite(start, end)` (the Resource payload
 * range, or -1, -1 when the ResourceSpans has none); `rewrite` returns the new Resource payload,
 * or undefined to keep the old one. Returns undefined when nothing changed.
 */
export function rewriteResources(buf: Uint8Array, rewrite: (start: number, end: number) => Uint8Array | undefined): Uint8Array | undefined {
  const out: Parts = [];
  let changed = false;
  const r = new WireReader(buf);
  while (r.pos < r.end) {
    const fieldStart = r.pos;
    const tag = r.tag();
    if (tag !== TAG_RESOURCE_SPANS) {
      r.skip(tag & 7);
      out.push(buf.subarray(fieldStart, r.pos));
      continue;
    }
    const end = r.lenEnd();
    const parts = rewrittenResourceSpans(buf, r.pos, end, rewrite);
    if (parts === undefined) {
      out.push(buf.subarray(fieldStart, end));
    } else {
      changed = true;
      pushLenField(out, 1, parts);
    }
    r.pos = end;
  }
  return changed ? concat(out) : undefined;
}

function rewrittenResourceSpans(
  buf: Uint8Array,
  start: number,
  end: number,
  rewrite: (start: number, end: number) => Uint8Array | undefined,
): Parts | undefined {
  // Find the Resource first: it is usually the first field, but the wire format does not promise it.
  const r = new WireReader(buf, start, end);
  let resField = -1;
  let resStart = -1;
  let resEnd = -1;
  while (r.pos < end) {
    const fieldStart = r.pos;
    const tag = r.tag();
    if (tag === TAG_RS_RESOURCE) {
      resField = fieldStart;
      resEnd = r.lenEnd();
      resStart = r.pos;
      break;
    }
    r.skip(tag & 7);
  }
  const replacement = rewrite(resStart, resEnd);
  if (replacement === undefined) return undefined;
  const header = lenFieldHeader(1, replacement.length);
  if (resField === -1) return [header, replacement, buf.subarray(start, end)];
  return [buf.subarray(start, resField), header, replacement, buf.subarray(resEnd, end)];
}
