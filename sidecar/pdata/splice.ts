// Edits of an encoded ExportTraceServiceRequest that change its length: dropping spans and
// replacing a ResourceSpans' Resource. Every field we do not touch is copied as raw bytes, so
// unknown fields survive (the OTLP -> OTLP path stays lossless); the enclosing length prefixes
// are re-framed. Field numbers: see the table in otlp-schema.ts.
import { varintSize, walkTraceRequest, WIRE_LEN, WireReader, writeVarint } from './wire.ts';

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

/**
 * Drops the spans for which `drop(start, end)` (the span's payload range) is true. ScopeSpans and
 * ResourceSpans left without spans are removed too. Returns undefined when nothing is dropped
 * (the caller keeps the original bytes). Throws WireFormatError on malformed input.
 */
export function filterSpans(buf: Uint8Array, drop: (start: number, end: number) => boolean): FilterResult | undefined {
  const dropped = new Set<number>();
  walkTraceRequest(buf, {
    span(loc) {
      if (drop(loc.start, loc.end)) dropped.add(loc.start);
    },
  });
  if (dropped.size === 0) return undefined;
  const out: Parts = [];
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
    const kept = keptResourceSpans(buf, r.pos, end, dropped);
    if (kept !== undefined) pushLenField(out, 1, kept);
    r.pos = end;
  }
  return { bytes: concat(out), dropped: dropped.size };
}

function keptResourceSpans(buf: Uint8Array, start: number, end: number, dropped: ReadonlySet<number>): Parts | undefined {
  const out: Parts = [];
  let scopes = 0;
  let keptScopes = 0;
  const r = new WireReader(buf, start, end);
  while (r.pos < end) {
    const fieldStart = r.pos;
    const tag = r.tag();
    if (tag !== TAG_RS_SCOPE_SPANS) {
      r.skip(tag & 7);
      out.push(buf.subarray(fieldStart, r.pos));
      continue;
    }
    const ssEnd = r.lenEnd();
    scopes++;
    const kept = keptScopeSpans(buf, r.pos, ssEnd, dropped);
    if (kept !== undefined) {
      keptScopes++;
      pushLenField(out, 2, kept);
    }
    r.pos = ssEnd;
  }
  return scopes > 0 && keptScopes === 0 ? undefined : out;
}

function keptScopeSpans(buf: Uint8Array, start: number, end: number, dropped: ReadonlySet<number>): Parts | undefined {
  const out: Parts = [];
  let spans = 0;
  let kept = 0;
  const r = new WireReader(buf, start, end);
  while (r.pos < end) {
    const fieldStart = r.pos;
    const tag = r.tag();
    if (tag !== TAG_SS_SPAN) {
      r.skip(tag & 7);
      out.push(buf.subarray(fieldStart, r.pos));
      continue;
    }
    const spanEnd = r.lenEnd();
    spans++;
    if (!dropped.has(r.pos)) {
      kept++;
      out.push(buf.subarray(fieldStart, spanEnd));
    }
    r.pos = spanEnd;
  }
  return spans > 0 && kept === 0 ? undefined : out;
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
