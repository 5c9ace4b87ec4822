// Segment names and annotation keys, as X-Ray accepts them.
//
// Segment name (schema: "Unicode letters, numbers, and whitespace, and the following symbols:
// _, ., :, /, %, &, #, =, +, \, -, @"; up to 200 characters). The collector removes other
// characters from the span-name fallback only (segment.go fixSegmentName, regex
// `[^ 0-9\p{L}N_.:/%&#=+\-@]`, cut at 200 bytes); here every chosen name is cleaned, because a
// name from an attribute (peer.service, http.host) breaks the document just the same, and the cut
// is at 200 characters (code points), never inside a UTF-8 sequence. An empty result becomes "span".
//
// Annotation key (current X-Ray: letters, digits, `_` and `.`): anything else becomes `_`, as the
// collector's fixAnnotationKey with its `exporter.xray.allowDot` gate (beta, on by default).

export const MAX_SEGMENT_NAME_CHARS = 200;
export const DEFAULT_SEGMENT_NAME = 'span';

const INVALID_NAME_CHARS = /[^\p{L}\p{N}\s_.:/%&#=+\\\-@]/gu;
const INVALID_ANNOTATION_KEY_CHARS = /[^A-Za-z0-9_.]/gu;

export function fixSegmentName(name: string): string {
  let out = name.replace(INVALID_NAME_CHARS, '');
  if (out.length > MAX_SEGMENT_NAME_CHARS) {
    // Slice by code points: 200 UTF-16 units could split a surrogate pair.
    const points = Array.from(out);
    if (points.length > MAX_SEGMENT_NAME_CHARS) out = points.slice(0, MAX_SEGMENT_NAME_CHARS).join('');
  }
  return out.trim() === '' ? DEFAULT_SEGMENT_NAME : out;
}

export function fixAnnotationKey(key: string): string {
  return key.replace(INVALID_ANNOTATION_KEY_CHARS, '_');
}
