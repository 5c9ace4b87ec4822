// Appends encoded fields to chosen spans of an encoded ExportTraceServiceRequest (the
// tracecontext processor adds the original-trace-ID attribute this way). A field appended at the
// end of a message is valid protobuf (fields may come in any order; repeated fields concatenate),
// so only the enclosing length prefixes (Span, ScopeSpans, ResourceSpans) are re-framed; every
// other byte is copied as is. Field numbers: see otlp-schema.ts.
import { lenFieldHeader } from './splice.ts';
import { WIRE_LEN, WireReader } from './wire.ts';

const TAG_RESOURCE_SPANS = (1 << 3) | WIRE_LEN;
const TAG_RS_SCOPE_SPANS = (2 << 3) | WIRE_LEN;
const TAG_SS_SPAN = (2 << 3) | WIRE_LEN;

type Parts = Uint8Array[];

/**
 * `appends` maps a span's payload start offset (SpanLocation.start) to the encoded bytes to add
 * at its end (tag and value). ResourceSpans and ScopeSpans without appended spans are copied whole.
 */
export function appendToSpans(buf: Uint8Array, appends: ReadonlyMap<number, Uint8Array>): Uint8Array {
  const out: Parts = [];
  let total = 0;
  const push = (p: Uint8Array) => {
    out.push(p);
    total += p.length;
  };
  const starts = [...appends.keys()].sort((a, b) => a - b);
  const anyWithin = (from: number, to: number): boolean => {
    // Binary search: is there an append offset in [from, to)?
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < starts.length && starts[lo]! < to;
  };
  const level = (start: number, end: number, childTag: number, child: (s: number, e: number) => Parts): Parts => {
    const parts: Parts = [];
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
      if (!anyWithin(r.pos, childEnd)) {
        parts.push(buf.subarray(fieldStart, childEnd));
      } else {
        const inner = child(r.pos, childEnd);
        let len = 0;
        for (const p of inner) len += p.length;
        parts.push(lenFieldHeader(childTag >>> 3, len), ...inner);
      }
      r.pos = childEnd;
    }
    return parts;
  };
  const span = (s: number, e: number): Parts => {
    const extra = appends.get(s);
    return extra === undefined ? [buf.subarray(s, e)] : [buf.subarray(s, e), extra];
  };
  const scopeSpans = (s: number, e: number) => level(s, e, TAG_SS_SPAN, span);
  const resourceSpans = (s: number, e: number) => level(s, e, TAG_RS_SCOPE_SPANS, scopeSpans);
  for (const p of level(0, buf.length, TAG_RESOURCE_SPANS, resourceSpans)) push(p);
  return Buffer.concat(out, total);
}
