// Trimming one encoded Span to a byte budget, for backends with a per-span limit (X-Ray's OTLP
// endpoint takes spans of at most 200 KB). Attributes, then events, then links are kept in order
// while they fit; what is cut is added to the span's dropped_*_count fields and recorded in a
// `tracebridge.trimmed` attribute, so the trimmed span says so where users look. Every other
// field, known or not, is copied byte for byte.
import {
  fieldNumber,
  TAG_SPAN_ATTRIBUTES,
  TAG_SPAN_DROPPED_ATTRIBUTES_COUNT,
  TAG_SPAN_DROPPED_EVENTS_COUNT,
  TAG_SPAN_DROPPED_LINKS_COUNT,
  TAG_SPAN_EVENTS,
  TAG_SPAN_LINKS,
} from './fields.ts';
import { encodeStringKeyValue, lenHeader, varintField } from './splice.ts';
import { WIRE_LEN, WIRE_VARINT, WireReader } from './wire.ts';

// Span field numbers, by which the fields are sorted below.
const ATTRIBUTES = fieldNumber(TAG_SPAN_ATTRIBUTES);
const DROPPED_ATTRIBUTES = fieldNumber(TAG_SPAN_DROPPED_ATTRIBUTES_COUNT);
const EVENTS = fieldNumber(TAG_SPAN_EVENTS);
const DROPPED_EVENTS = fieldNumber(TAG_SPAN_DROPPED_EVENTS_COUNT);
const LINKS = fieldNumber(TAG_SPAN_LINKS);
const DROPPED_LINKS = fieldNumber(TAG_SPAN_DROPPED_LINKS_COUNT);

export const TRIMMED_ATTRIBUTE = 'tracebridge.trimmed';

export interface TrimResult {
  /** The span's new payload. */
  payload: Uint8Array;
  attributes: number;
  events: number;
  links: number;
}

/**
 * The span payload at [start, end) of `buf` cut to at most `maxBytes`, or undefined when even
 * without attributes, events and links it does not fit (a huge name or status message: the caller
 * drops the span).
 */
export function trimSpan(buf: Uint8Array, start: number, end: number, maxBytes: number): TrimResult | undefined {
  const kept: Uint8Array[] = [];
  const cuttable: Record<number, Uint8Array[]> = { [ATTRIBUTES]: [], [EVENTS]: [], [LINKS]: [] };
  const dropped: Record<number, number> = { [DROPPED_ATTRIBUTES]: 0, [DROPPED_EVENTS]: 0, [DROPPED_LINKS]: 0 };
  let fixed = 0;
  const r = new WireReader(buf, start, end);
  while (r.pos < end) {
    const fieldStart = r.pos;
    const tag = r.tag();
    const field = tag >>> 3;
    if (tag === ((field << 3) | WIRE_VARINT) && field in dropped) {
      dropped[field] = r.varint();
      continue;
    }
    r.skip(tag & 7);
    const bytes = buf.subarray(fieldStart, r.pos);
    if ((tag & 7) === WIRE_LEN && field in cuttable) cuttable[field]!.push(bytes);
    else {
      kept.push(bytes);
      fixed += bytes.length;
    }
  }
  // Room for the three dropped counts and the marker attribute, whatever their values turn out to be.
  const reserve = 3 * 11 + 128;
  let budget = maxBytes - fixed - reserve;
  if (budget < 0) return undefined;
  const cut: Record<number, number> = { [ATTRIBUTES]: 0, [EVENTS]: 0, [LINKS]: 0 };
  for (const field of [ATTRIBUTES, EVENTS, LINKS]) {
    for (const item of cuttable[field]!) {
      if (item.length <= budget) {
        kept.push(item);
        budget -= item.length;
      } else {
        cut[field]!++;
      }
    }
  }
  const summary = `attributes:${cut[ATTRIBUTES]},events:${cut[EVENTS]},links:${cut[LINKS]}`;
  const marker = encodeStringKeyValue(TRIMMED_ATTRIBUTE, `${summary} (span over ${maxBytes} bytes)`);
  kept.push(lenHeader(TAG_SPAN_ATTRIBUTES, marker.length), marker);
  const counts: [number, number][] = [
    [DROPPED_ATTRIBUTES, dropped[DROPPED_ATTRIBUTES]! + cut[ATTRIBUTES]!],
    [DROPPED_EVENTS, dropped[DROPPED_EVENTS]! + cut[EVENTS]!],
    [DROPPED_LINKS, dropped[DROPPED_LINKS]! + cut[LINKS]!],
  ];
  for (const [field, n] of counts) if (n > 0) kept.push(varintField((field << 3) | WIRE_VARINT, n));
  return { payload: Buffer.concat(kept), attributes: cut[ATTRIBUTES]!, events: cut[EVENTS]!, links: cut[LINKS]! };
}
