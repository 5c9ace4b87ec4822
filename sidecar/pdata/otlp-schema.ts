// The OTLP trace protobuf schema, written here from the OTLP specification
// (opentelemetry-proto, opentelemetry/proto/{common,resource,trace,collector/trace}/v1/*.proto).
// Used only where objects are needed (OTLP/JSON, Zipkin and X-Ray receivers, exporters that build
// other formats, the debug exporter); the OTLP -> OTLP path never decodes (see wire.ts).
//
// Field numbers and wire types (LEN = length-delimited, I64 = fixed64, VARINT):
//   ExportTraceServiceRequest  1 resource_spans      LEN repeated ResourceSpans
//   ExportTraceServiceResponse 1 partial_success     LEN ExportTracePartialSuccess
//   ExportTracePartialSuccess  1 rejected_spans      VARINT int64   2 error_message LEN string
//   ResourceSpans              1 resource            LEN Resource   2 scope_spans LEN repeated ScopeSpans
//                              3 schema_url          LEN string
//   Resource                   1 attributes          LEN repeated KeyValue   2 dropped_attributes_count VARINT
//   ScopeSpans                 1 scope               LEN InstrumentationScope  2 spans LEN repeated Span
//                              3 schema_url          LEN string
//   InstrumentationScope       1 name LEN  2 version LEN  3 attributes LEN repeated KeyValue  4 dropped VARINT
//   Span                       1 trace_id LEN(16)  2 span_id LEN(8)  3 trace_state LEN  4 parent_span_id LEN(8)
//                              5 name LEN  6 kind VARINT  7 start_time_unix_nano I64  8 end_time_unix_nano I64
//                              9 attributes LEN  10 dropped_attributes_count VARINT  11 events LEN
//                              12 dropped_events_count VARINT  13 links LEN  14 dropped_links_count VARINT
//                              15 status LEN  16 flags I32 (fixed32)
//   Span.Event                 1 time_unix_nano I64  2 name LEN  3 attributes LEN  4 dropped VARINT
//   Span.Link                  1 trace_id LEN  2 span_id LEN  3 trace_state LEN  4 attributes LEN
//                              5 dropped VARINT  6 flags I32
//   Status                     2 message LEN  3 code VARINT (1 is reserved)
//   KeyValue                   1 key LEN  2 value LEN AnyValue
//   AnyValue (oneof)           1 string LEN  2 bool VARINT  3 int VARINT int64  4 double I64
//                              5 array LEN ArrayValue  6 kvlist LEN KeyValueList  7 bytes LEN
// protobufjs (with the schema built from it: ~7 MiB RSS, ~4 MiB of it private) is loaded on the
// first encode or decode, not at import: the OTLP -> OTLP path works on bytes and never needs it,
// so a sidecar that only relays OTLP never pays for it. require() keeps the functions synchronous.
import { createRequire } from 'node:module';
import type protobuf from 'protobufjs/light.js';

const require = createRequire(import.meta.url);

const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });

const descriptor = {
  nested: {
    otlp: {
      nested: {
        AnyValue: {
          oneofs: { value: { oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] } },
          fields: {
            stringValue: { type: 'string', id: 1 },
            boolValue: { type: 'bool', id: 2 },
            intValue: { type: 'int64', id: 3 },
            doubleValue: { type: 'double', id: 4 },
            arrayValue: { type: 'ArrayValue', id: 5 },
            kvlistValue: { type: 'KeyValueList', id: 6 },
            bytesValue: { type: 'bytes', id: 7 },
          },
        },
        ArrayValue: { fields: { values: repeated('AnyValue', 1) } },
        KeyValueList: { fields: { values: repeated('KeyValue', 1) } },
        KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
        InstrumentationScope: {
          fields: {
            name: { type: 'string', id: 1 },
            version: { type: 'string', id: 2 },
            attributes: repeated('KeyValue', 3),
            droppedAttributesCount: { type: 'uint32', id: 4 },
          },
        },
        Resource: {
          fields: { attributes: repeated('KeyValue', 1), droppedAttributesCount: { type: 'uint32', id: 2 } },
        },
        SpanKind: {
          values: {
            SPAN_KIND_UNSPECIFIED: 0,
            SPAN_KIND_INTERNAL: 1,
            SPAN_KIND_SERVER: 2,
            SPAN_KIND_CLIENT: 3,
            SPAN_KIND_PRODUCER: 4,
            SPAN_KIND_CONSUMER: 5,
          },
        },
        StatusCode: { values: { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 } },
        Status: { fields: { message: { type: 'string', id: 2 }, code: { type: 'StatusCode', id: 3 } } },
        Event: {
          fields: {
            timeUnixNano: { type: 'fixed64', id: 1 },
            name: { type: 'string', id: 2 },
            attributes: repeated('KeyValue', 3),
            droppedAttributesCount: { type: 'uint32', id: 4 },
          },
        },
        Link: {
          fields: {
            traceId: { type: 'bytes', id: 1 },
            spanId: { type: 'bytes', id: 2 },
            traceState: { type: 'string', id: 3 },
            attributes: repeated('KeyValue', 4),
            droppedAttributesCount: { type: 'uint32', id: 5 },
            flags: { type: 'fixed32', id: 6 },
          },
        },
        Span: {
          fields: {
            traceId: { type: 'bytes', id: 1 },
            spanId: { type: 'bytes', id: 2 },
            traceState: { type: 'string', id: 3 },
            parentSpanId: { type: 'bytes', id: 4 },
            flags: { type: 'fixed32', id: 16 },
            name: { type: 'string', id: 5 },
            kind: { type: 'SpanKind', id: 6 },
            startTimeUnixNano: { type: 'fixed64', id: 7 },
            endTimeUnixNano: { type: 'fixed64', id: 8 },
            attributes: repeated('KeyValue', 9),
            droppedAttributesCount: { type: 'uint32', id: 10 },
            events: repeated('Event', 11),
            droppedEventsCount: { type: 'uint32', id: 12 },
            links: repeated('Link', 13),
            droppedLinksCount: { type: 'uint32', id: 14 },
            status: { type: 'Status', id: 15 },
          },
        },
        ScopeSpans: {
          fields: {
            scope: { type: 'InstrumentationScope', id: 1 },
            spans: repeated('Span', 2),
            schemaUrl: { type: 'string', id: 3 },
          },
        },
        ResourceSpans: {
          fields: {
            resource: { type: 'Resource', id: 1 },
            scopeSpans: repeated('ScopeSpans', 2),
            schemaUrl: { type: 'string', id: 3 },
          },
        },
        ExportTraceServiceRequest: { fields: { resourceSpans: repeated('ResourceSpans', 1) } },
        ExportTracePartialSuccess: {
          fields: { rejectedSpans: { type: 'int64', id: 1 }, errorMessage: { type: 'string', id: 2 } },
        },
        ExportTraceServiceResponse: { fields: { partialSuccess: { type: 'ExportTracePartialSuccess', id: 1 } } },
      },
    },
  },
};

// proto3 leaves an empty string off the wire, and toObject with `defaults: false` then omits the
// field; KeyValue.key is declared a string (consumers call string methods on it), so a decoded
// KeyValue gets its default back. Registered before the types are set up, which installs it.
let types: { request: protobuf.Type; response: protobuf.Type } | undefined;

function schema(): { request: protobuf.Type; response: protobuf.Type } {
  if (types !== undefined) return types;
  const pb = require('protobufjs/light.js') as typeof protobuf;
  pb.wrappers['.otlp.KeyValue'] = {
    fromObject(this: protobuf.Type, object) {
      return this.fromObject(object);
    },
    toObject(this: protobuf.Type, message, options) {
      const out = this.toObject(message, options);
      out.key ??= '';
      return out;
    },
  };
  const root = pb.Root.fromJSON(descriptor);
  types = { request: root.lookupType('otlp.ExportTraceServiceRequest'), response: root.lookupType('otlp.ExportTraceServiceResponse') };
  return types;
}

/** The protobufjs type of ExportTraceServiceRequest (loads protobufjs on first call). */
export const exportTraceServiceRequestType = (): protobuf.Type => schema().request;
/** The protobufjs type of ExportTraceServiceResponse (loads protobufjs on first call). */
export const exportTraceServiceResponseType = (): protobuf.Type => schema().response;

// Plain-object view of the schema (protobufjs toObject with longs as bigint, bytes as Uint8Array).
export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: bigint | number | string;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: Uint8Array;
}
export interface KeyValue {
  key: string;
  value?: AnyValue;
}
export interface InstrumentationScope {
  name?: string;
  version?: string;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
}
export interface Resource {
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
}
export const SpanKind = {
  UNSPECIFIED: 0,
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
} as const;
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;
export interface SpanEvent {
  timeUnixNano?: bigint | string | number;
  name?: string;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
}
export interface SpanLink {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  traceState?: string;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
  flags?: number;
}
export interface Span {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  traceState?: string;
  parentSpanId?: Uint8Array;
  flags?: number;
  name?: string;
  kind?: number;
  startTimeUnixNano?: bigint | string | number;
  endTimeUnixNano?: bigint | string | number;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
  events?: SpanEvent[];
  droppedEventsCount?: number;
  links?: SpanLink[];
  droppedLinksCount?: number;
  status?: { message?: string; code?: number };
}
export interface ScopeSpans {
  scope?: InstrumentationScope;
  spans?: Span[];
  schemaUrl?: string;
}
export interface ResourceSpans {
  resource?: Resource;
  scopeSpans?: ScopeSpans[];
  schemaUrl?: string;
}
export interface ExportTraceServiceRequest {
  resourceSpans?: ResourceSpans[];
}

/** Encodes a request object (fixed64 fields may be bigint, decimal strings or safe numbers). */
export function encodeTraceRequest(req: ExportTraceServiceRequest): Uint8Array {
  // encode() takes plain objects of the schema's shape; fromObject() would copy the tree a second time.
  return schema().request.encode(toLongFriendly(req) as Record<string, unknown>).finish();
}

/** Decodes protobuf bytes into plain objects: 64-bit integers as bigint, enums as numbers. */
export function decodeTraceRequest(bytes: Uint8Array): ExportTraceServiceRequest {
  const type = schema().request;
  const msg = type.decode(bytes);
  return type.toObject(msg, { longs: BigInt, enums: Number, bytes: Uint8Array as unknown as typeof String, defaults: false, arrays: true });
}

export function encodeTraceResponse(rejectedSpans: number, errorMessage: string): Uint8Array {
  const body = rejectedSpans > 0 || errorMessage !== '' ? { partialSuccess: { rejectedSpans, errorMessage } } : {};
  const type = schema().response;
  return type.encode(type.fromObject(body)).finish();
}

// protobufjs writes 64-bit fields from numbers, decimal strings or {low, high} bits, not bigint.
// It also writes a lone UTF-16 surrogate as three bytes that are not UTF-8, which strict decoders
// downstream refuse (with the whole batch): such a string gets U+FFFD in its place, as Go's JSON
// decoders do for the Zipkin and X-Ray documents these objects come from.
function toLongFriendly(v: unknown): unknown {
  if (typeof v === 'string') return v.isWellFormed() ? v : v.toWellFormed();
  if (typeof v === 'bigint') {
    const bits = BigInt.asUintN(64, v);
    return { low: Number(bits & 0xffffffffn), high: Number(bits >> 32n) };
  }
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map(toLongFriendly);
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) out[k] = toLongFriendly(val);
  return out;
}
