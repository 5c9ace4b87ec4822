// Edits of an encoded ExportTraceServiceRequest that change its length: dropping spans, appending
// fields to spans and replacing a ResourceSpans' Resource. Every field we do not touch is copied as
// raw bytes, so unknown fields survive (the OTLP -> OTLP path stays lossless); the enclosing length
// prefixes are re-framed. Spans and resources are found through the request's view.
import {
  TAG_KEY_VALUE_KEY,
  TAG_KEY_VALUE_VALUE,
  TAG_RESOURCE_SPANS_RESOURCE,
  TAG_RESOURCE_SPANS_SCOPE_SPANS,
  TAG_SCOPE_SPANS_SPANS,
  TAG_TRACE_REQUEST_RESOURCE_SPANS,
  WIRE_LEN,
} from './fields.ts';
import { encodeAnyValue } from './otlp-writer.ts';
import type { TraceView } from './trace-view.ts';
import { varintSize, WireReader, writeVarint } from './wire.ts';

/** Pieces of an output message; concatenated once at the end. */
type Parts = Uint8Array[];

function partsLength(parts: Parts): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

/** Tag and length prefix of a LEN field given by its tag (fields.ts). */
export function lenHeader(tag: number, length: number): Uint8Array {
  const out = new Uint8Array(varintSize(tag) + varintSize(length));
  writeVarint(out, writeVarint(out, 0, tag), length);
  return out;
}

/** Tag and length prefix of the LEN field number `field`. */
export function lenFieldHeader(field: number, length: number): Uint8Array {
  return lenHeader((field << 3) | WIRE_LEN, length);
}

/** A whole VARINT field given by its tag (fields.ts): the tag, then `value`. */
export function varintField(tag: number, value: number): Uint8Array {
  const out = new Uint8Array(varintSize(tag) + varintSize(value));
  writeVarint(out, writeVarint(out, 0, tag), value);
  return out;
}

/** A whole LEN field: its tag, the length prefix and `payload`. */
export function lenField(tag: number, payload: Uint8Array): Uint8Array {
  return concat([lenHeader(tag, payload.length), payload]);
}

function pushLenField(out: Parts, tag: number, parts: Parts): void {
  out.push(lenHeader(tag, partsLength(parts)), ...parts);
}

function concat(parts: Parts): Uint8Array {
  return Buffer.concat(parts, partsLength(parts));
}

/** A KeyValue payload { key, value } from the key's UTF-8 bytes and an AnyValue payload (encodeAnyValue). */
export function encodeKeyValue(key: Uint8Array, anyValue: Uint8Array): Uint8Array {
  return concat([lenField(TAG_KEY_VALUE_KEY, key), lenField(TAG_KEY_VALUE_VALUE, anyValue)]);
}

/** An encoded KeyValue with a string value: { key, value: AnyValue { string_value } }. */
export function encodeStringKeyValue(key: string, value: string): Uint8Array {
  return encodeKeyValue(Buffer.from(key, 'utf8'), encodeAnyValue({ stringValue: value }));
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
    else if (edit !== undefined) pushLenField(parts, childTag, edit);
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
  const scope = (s: number, e: number): ChildEdit => (anyWithin(starts, s, e) ? keep(rebuild(buf, s, e, TAG_SCOPE_SPANS_SPANS, spanEdit)) : COPY);
  const resource = (s: number, e: number): ChildEdit => (anyWithin(starts, s, e) ? keep(rebuild(buf, s, e, TAG_RESOURCE_SPANS_SCOPE_SPANS, scope)) : COPY);
  return concat(rebuild(buf, 0, buf.length, TAG_TRACE_REQUEST_RESOURCE_SPANS, resource).parts);
}

/**
 * Drops the spans `k` of the view for which `drop(k)` is true. ScopeSpans and ResourceSpans left
 * without spans are removed too. Returns undefined when nothing is dropped (the caller keeps the
 * original bytes).
 */
export function filterSpans(buf: Uint8Array, view: TraceView, drop: (span: number) => boolean): FilterResult | undefined {
  const dropped: number[] = [];
  for (let k = 0; k < view.spanCount; k++) if (drop(k)) dropped.push(view.spanStart(k));
  if (dropped.length === 0) return undefined;
  const set = new Set(dropped);
  const bytes = editSpans(buf, dropped, (s) => (set.has(s) ? undefined : COPY), true);
  return { bytes, dropped: dropped.length };
}

/**
 * Appends encoded fields to chosen spans: `appends` maps a span's payload start offset
 * (TraceView.spanStart) to the bytes (tag and value) to add at its end. A field appended at the end
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
 * Replaces the Resource of every ResourceSpans `i` of the view with `rewrite(start, end)` (the
 * Resource payload range, or -1, -1 when the ResourceSpans has none); `rewrite` returns the new
 * Resource payload, or undefined to keep the old one. Returns undefined when nothing changed.
 */
export function rewriteResources(buf: Uint8Array, view: TraceView, rewrite: (start: number, end: number) => Uint8Array | undefined): Uint8Array | undefined {
  const out: Parts = [];
  let copied = 0;
  for (let i = 0; i < view.resourceSpansCount; i++) {
    const replacement = rewrite(view.resourceStart(i), view.resourceEnd(i));
    if (replacement === undefined) continue;
    const field = view.resourceSpansField(i);
    const start = view.resourceSpansStart(i);
    const end = view.resourceSpansEnd(i);
    // Bytes before this ResourceSpans (other fields and untouched ResourceSpans) go as they are.
    if (field > copied) out.push(buf.subarray(copied, field));
    const header = lenHeader(TAG_RESOURCE_SPANS_RESOURCE, replacement.length);
    const resField = view.resourceField(i);
    const parts: Parts =
      resField === -1 ? [header, replacement, buf.subarray(start, end)] : [buf.subarray(start, resField), header, replacement, buf.subarray(view.resourceEnd(i), end)];
    pushLenField(out, TAG_TRACE_REQUEST_RESOURCE_SPANS, parts);
    copied = end;
  }
  if (out.length === 0) return undefined;
  if (copied < buf.length) out.push(buf.subarray(copied));
  return concat(out);
}

/**
 * Rebuilds the request with spans edited by their payload start offset (TraceView.spanStart):
 * null drops the span, parts replace its payload (re-framed); spans not in `edits` are copied.
 * ScopeSpans and ResourceSpans left without spans are removed, as filterSpans does. Returns
 * undefined when `edits` is empty.
 */
export function editSpanPayloads(buf: Uint8Array, edits: ReadonlyMap<number, Uint8Array[] | null>): Uint8Array | undefined {
  if (edits.size === 0) return undefined;
  const starts = [...edits.keys()].sort((a, b) => a - b);
  return editSpans(
    buf,
    starts,
    (s) => {
      const edit = edits.get(s);
      return edit === undefined ? COPY : edit === null ? undefined : edit;
    },
    true,
  );
}
