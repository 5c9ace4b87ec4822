// X-Ray takes segment documents of at most 64 kB (PutTraceSegments; the daemon's UDP datagram is
// 64 KiB with its header). A larger document is trimmed, least valuable part first:
//   1. metadata (not indexed, the bulk of big documents: resource and free-form attributes),
//   2. annotations,
//   3. cause stack frames,
//   4. what can still be large: exception messages, the SQL query and the URL are cut to 1 KiB
//      characters, links dropped.
// A document that is still too large (a pathological span) is dropped; the caller counts it.
import { serializeDocument, type SegmentDocument } from './document.ts';

/** 64 kB, the documented segment document limit (also inside the daemon's 64 KiB datagram). */
export const MAX_DOCUMENT_BYTES = 64_000;

const CUT_CHARS = 1024;

export type TrimStep = 'metadata' | 'annotations' | 'cause_stack' | 'long_fields';

export interface Fitted {
  /** The JSON to send; undefined when even the trimmed document is too large. */
  json: string | undefined;
  /** Steps applied, in order; empty when the document fitted as it was. */
  trimmed: TrimStep[];
}

/** UTF-8 size without encoding when the UTF-16 length already decides it (≤ 3 bytes per unit). */
function fits(json: string, maxBytes: number): boolean {
  if (json.length * 3 <= maxBytes) return true;
  if (json.length > maxBytes) return false;
  return Buffer.byteLength(json, 'utf8') <= maxBytes;
}

function cut(s: string | undefined): string | undefined {
  return s !== undefined && s.length > CUT_CHARS ? s.slice(0, CUT_CHARS) : s;
}

const STEPS: readonly [TrimStep, (doc: SegmentDocument) => boolean][] = [
  ['metadata', (doc) => doc.metadata !== undefined && delete doc.metadata],
  ['annotations', (doc) => doc.annotations !== undefined && delete doc.annotations],
  [
    'cause_stack',
    (doc) => {
      let changed = false;
      for (const e of doc.cause?.exceptions ?? []) if (e.stack !== undefined) changed = delete e.stack;
      return changed;
    },
  ],
  [
    'long_fields',
    (doc) => {
      for (const e of doc.cause?.exceptions ?? []) e.message = cut(e.message);
      if (doc.sql?.sanitized_query !== undefined) doc.sql.sanitized_query = cut(doc.sql.sanitized_query);
      if (doc.http?.request?.url !== undefined) doc.http.request.url = cut(doc.http.request.url);
      delete doc.links;
      return true;
    },
  ],
];

/** Serializes `doc`, trimming it (in place) until it fits in `maxBytes`. */
export function fitDocument(doc: SegmentDocument, maxBytes = MAX_DOCUMENT_BYTES): Fitted {
  let json = serializeDocument(doc);
  const trimmed: TrimStep[] = [];
  if (fits(json, maxBytes)) return { json, trimmed };
  for (const [step, apply] of STEPS) {
    if (!apply(doc)) continue;
    trimmed.push(step);
    json = serializeDocument(doc);
    if (fits(json, maxBytes)) return { json, trimmed };
  }
  return { json: undefined, trimmed };
}
