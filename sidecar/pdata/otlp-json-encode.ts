// OTLP/JSON encoding of an encoded ExportTraceServiceRequest (the otlphttp exporter's
// `encoding: json`). The OTLP specification's JSON mapping: lowerCamelCase names, trace and span
// IDs as hex (not base64, unlike other bytes), enums as integers, 64-bit integers as decimal
// strings, NaN/Infinity as strings. JSON goes through the schema in otlp-schema.ts, so fields that
// schema does not know are lost: protobuf (the default encoding) is the lossless choice.
import { PermanentError } from '../component/errors.ts';
import { exportTraceServiceRequestType } from './otlp-schema.ts';

type Json = Record<string, unknown>;

function base64ToHex(v: unknown): unknown {
  return typeof v === 'string' ? Buffer.from(v, 'base64').toString('hex') : v;
}

function hexIds(obj: Json, keys: readonly string[]): void {
  for (const k of keys) if (k in obj) obj[k] = base64ToHex(obj[k]);
}

const SPAN_IDS = ['traceId', 'spanId', 'parentSpanId'] as const;
const LINK_IDS = ['traceId', 'spanId'] as const;

/**
 * Throws PermanentError when the bytes do not decode (never for validated data): the exporter's
 * queue then drops the request, counted and warned about once, instead of retrying what cannot
 * succeed.
 */
export function traceRequestProtoToJson(bytes: Uint8Array): string {
  const type = exportTraceServiceRequestType();
  let msg: ReturnType<typeof type.decode>;
  try {
    msg = type.decode(bytes);
  } catch (err) {
    throw new PermanentError(`trace request does not decode for OTLP/JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const doc = type.toObject(msg, { longs: String, enums: Number, bytes: String, defaults: false, json: true });
  for (const rs of (doc.resourceSpans as Json[] | undefined) ?? []) {
    for (const ss of (rs.scopeSpans as Json[] | undefined) ?? []) {
      for (const span of (ss.spans as Json[] | undefined) ?? []) {
        hexIds(span, SPAN_IDS);
        for (const link of (span.links as Json[] | undefined) ?? []) hexIds(link, LINK_IDS);
      }
    }
  }
  return JSON.stringify(doc);
}
