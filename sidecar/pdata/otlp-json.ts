// OTLP/JSON (the OTLP specification's JSON encoding): lowerCamelCase field names, trace and span
// IDs as hex strings (other bytes base64), enums as integers (names accepted too), 64-bit
// integers as decimal strings or numbers, unknown fields ignored. A lone UTF-16 surrogate escape
// (`"\ud800"`) becomes U+FFFD, as Go's JSON decoders (the collector's) make it: JSON text is
// always convertible, and the protobuf it becomes must hold UTF-8.
import { exportTraceServiceRequestType, exportTraceServiceResponseType } from './otlp-schema.ts';
import { PermanentError } from '../component/errors.ts';

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

function wellFormedStrings(_key: string, value: unknown): unknown {
  return typeof value === 'string' && !value.isWellFormed() ? value.toWellFormed() : value;
}

function hexField(obj: Record<string, unknown>, key: string, bytes: number, where: string): void {
  const v = obj[key];
  if (v === undefined || v === null || v === '') {
    delete obj[key];
    return;
  }
  if (typeof v !== 'string' || !HEX.test(v) || v.length !== bytes * 2) {
    throw new PermanentError(`${where}.${key}: expected ${bytes * 2} hex characters, got ${JSON.stringify(v)}`);
  }
  obj[key] = Buffer.from(v, 'hex');
}

function asArray(v: unknown, where: string): Record<string, unknown>[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new PermanentError(`${where}: expected an array`);
  return v as Record<string, unknown>[];
}

/**
 * Parses an OTLP/JSON ExportTraceServiceRequest and returns it protobuf-encoded (the pipeline's
 * canonical form). Throws PermanentError with a path on bad input.
 */
export function traceRequestJsonToProto(body: Buffer | string): Uint8Array {
  let doc: unknown;
  try {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    // Only a \uD800-\uDFFF escape can make a string that is not well-formed; the reviver costs a call per value.
    doc = SURROGATE_ESCAPE.test(text) ? JSON.parse(text, wellFormedStrings) : JSON.parse(text);
  } catch (err) {
    throw new PermanentError(`malformed JSON: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new PermanentError('malformed OTLP/JSON: the body must be a JSON object');
  }
  const rsList = asArray((doc as Record<string, unknown>).resourceSpans, 'resourceSpans');
  rsList.forEach((rs, i) => {
    const ssList = asArray(rs?.scopeSpans, `resourceSpans[${i}].scopeSpans`);
    ssList.forEach((ss, j) => {
      const spans = asArray(ss?.spans, `resourceSpans[${i}].scopeSpans[${j}].spans`);
      spans.forEach((span, k) => {
        const where = `resourceSpans[${i}].scopeSpans[${j}].spans[${k}]`;
        if (span === null || typeof span !== 'object') throw new PermanentError(`${where}: expected an object`);
        hexField(span, 'traceId', 16, where);
        hexField(span, 'spanId', 8, where);
        hexField(span, 'parentSpanId', 8, where);
        asArray(span.links, `${where}.links`).forEach((link, l) => {
          hexField(link, 'traceId', 16, `${where}.links[${l}]`);
          hexField(link, 'spanId', 8, `${where}.links[${l}]`);
        });
      });
    });
  });
  try {
    const type = exportTraceServiceRequestType();
    return type.encode(type.fromObject(doc)).finish();
  } catch (err) {
    throw new PermanentError(`malformed OTLP/JSON: ${(err as Error).message}`);
  }
}

export function traceResponseJson(rejectedSpans: number, errorMessage: string): string {
  if (rejectedSpans === 0 && errorMessage === '') return '{}';
  const type = exportTraceServiceResponseType();
  const msg = type.fromObject({ partialSuccess: { rejectedSpans, errorMessage } });
  return JSON.stringify(type.toObject(msg, { longs: String }));
}
