// Field numbers and wire types of every protobuf message tracebridge reads or writes on the wire,
// as tags (field number << 3 | wire type), the form walkers compare. One table for the validator,
// the splicers, the processors and the response readers, so no module spells a tag of its own.
//
// Sources: opentelemetry-proto (opentelemetry/proto/{collector/*,trace,common,resource,metrics,
// logs}/v1/*.proto) and googleapis (google/rpc/status.proto, google/rpc/error_details.proto,
// google/protobuf/{any,duration}.proto). otlp-schema.ts holds the same numbers as a protobufjs
// schema for the paths that decode.

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
/** Start and end of a group (proto2): unused by OTLP, but legal as an unknown field. */
export const WIRE_SGROUP = 3;
export const WIRE_EGROUP = 4;
export const WIRE_I32 = 5;

const tag = (field: number, wireType: number): number => (field << 3) | wireType;

/** The field number of a tag. */
export function fieldNumber(t: number): number {
  return t >>> 3;
}

// opentelemetry.proto.collector.trace.v1
export const TAG_TRACE_REQUEST_RESOURCE_SPANS = tag(1, WIRE_LEN);
export const TAG_TRACE_RESPONSE_PARTIAL_SUCCESS = tag(1, WIRE_LEN);
// Export{Trace,Metrics,Logs}PartialSuccess share the shape: 1 rejected_<items> int64, 2 error_message string.
export const TAG_PARTIAL_SUCCESS_REJECTED = tag(1, WIRE_VARINT);
export const TAG_PARTIAL_SUCCESS_ERROR_MESSAGE = tag(2, WIRE_LEN);

// opentelemetry.proto.trace.v1
export const TAG_RESOURCE_SPANS_RESOURCE = tag(1, WIRE_LEN);
export const TAG_RESOURCE_SPANS_SCOPE_SPANS = tag(2, WIRE_LEN);
export const TAG_RESOURCE_SPANS_SCHEMA_URL = tag(3, WIRE_LEN);

export const TAG_SCOPE_SPANS_SCOPE = tag(1, WIRE_LEN);
export const TAG_SCOPE_SPANS_SPANS = tag(2, WIRE_LEN);
export const TAG_SCOPE_SPANS_SCHEMA_URL = tag(3, WIRE_LEN);

export const TAG_SPAN_TRACE_ID = tag(1, WIRE_LEN); // 16 bytes
export const TAG_SPAN_SPAN_ID = tag(2, WIRE_LEN); // 8 bytes
export const TAG_SPAN_TRACE_STATE = tag(3, WIRE_LEN);
export const TAG_SPAN_PARENT_SPAN_ID = tag(4, WIRE_LEN); // 8 bytes
export const TAG_SPAN_NAME = tag(5, WIRE_LEN);
export const TAG_SPAN_KIND = tag(6, WIRE_VARINT);
/** Span.kind's enum names (SpanKind), indexed by value, as OTTL conditions and include/exclude rules spell them. */
export const SPAN_KIND_NAMES: readonly string[] = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
export const TAG_SPAN_START_TIME = tag(7, WIRE_I64); // fixed64 Unix nanoseconds
export const TAG_SPAN_END_TIME = tag(8, WIRE_I64);
export const TAG_SPAN_ATTRIBUTES = tag(9, WIRE_LEN);
export const TAG_SPAN_DROPPED_ATTRIBUTES_COUNT = tag(10, WIRE_VARINT);
export const TAG_SPAN_EVENTS = tag(11, WIRE_LEN);
export const TAG_SPAN_DROPPED_EVENTS_COUNT = tag(12, WIRE_VARINT);
export const TAG_SPAN_LINKS = tag(13, WIRE_LEN);
export const TAG_SPAN_DROPPED_LINKS_COUNT = tag(14, WIRE_VARINT);
export const TAG_SPAN_STATUS = tag(15, WIRE_LEN);
export const TAG_SPAN_FLAGS = tag(16, WIRE_I32); // fixed32

export const TAG_EVENT_TIME = tag(1, WIRE_I64);
export const TAG_EVENT_NAME = tag(2, WIRE_LEN);
export const TAG_EVENT_ATTRIBUTES = tag(3, WIRE_LEN);
export const TAG_EVENT_DROPPED_ATTRIBUTES_COUNT = tag(4, WIRE_VARINT);

export const TAG_LINK_TRACE_ID = tag(1, WIRE_LEN); // 16 bytes
export const TAG_LINK_SPAN_ID = tag(2, WIRE_LEN); // 8 bytes
export const TAG_LINK_TRACE_STATE = tag(3, WIRE_LEN);
export const TAG_LINK_ATTRIBUTES = tag(4, WIRE_LEN);
export const TAG_LINK_DROPPED_ATTRIBUTES_COUNT = tag(5, WIRE_VARINT);
export const TAG_LINK_FLAGS = tag(6, WIRE_I32);

// Field 1 is reserved (the deprecated code).
export const TAG_STATUS_MESSAGE = tag(2, WIRE_LEN);
export const TAG_STATUS_CODE = tag(3, WIRE_VARINT);

// opentelemetry.proto.resource.v1
export const TAG_RESOURCE_ATTRIBUTES = tag(1, WIRE_LEN);
export const TAG_RESOURCE_DROPPED_ATTRIBUTES_COUNT = tag(2, WIRE_VARINT);
export const TAG_RESOURCE_ENTITY_REFS = tag(3, WIRE_LEN); // development status

// opentelemetry.proto.common.v1
export const TAG_SCOPE_NAME = tag(1, WIRE_LEN);
export const TAG_SCOPE_VERSION = tag(2, WIRE_LEN);
export const TAG_SCOPE_ATTRIBUTES = tag(3, WIRE_LEN);
export const TAG_SCOPE_DROPPED_ATTRIBUTES_COUNT = tag(4, WIRE_VARINT);

export const TAG_KEY_VALUE_KEY = tag(1, WIRE_LEN);
export const TAG_KEY_VALUE_VALUE = tag(2, WIRE_LEN);

// AnyValue is a oneof; the last field on the wire wins.
export const TAG_ANY_VALUE_STRING = tag(1, WIRE_LEN);
export const TAG_ANY_VALUE_BOOL = tag(2, WIRE_VARINT);
export const TAG_ANY_VALUE_INT = tag(3, WIRE_VARINT); // int64
export const TAG_ANY_VALUE_DOUBLE = tag(4, WIRE_I64);
export const TAG_ANY_VALUE_ARRAY = tag(5, WIRE_LEN); // ArrayValue
export const TAG_ANY_VALUE_KVLIST = tag(6, WIRE_LEN); // KeyValueList
export const TAG_ANY_VALUE_BYTES = tag(7, WIRE_LEN);

export const TAG_ARRAY_VALUE_VALUES = tag(1, WIRE_LEN); // repeated AnyValue
export const TAG_KEY_VALUE_LIST_VALUES = tag(1, WIRE_LEN); // repeated KeyValue

export const TAG_ENTITY_REF_SCHEMA_URL = tag(1, WIRE_LEN);
export const TAG_ENTITY_REF_TYPE = tag(2, WIRE_LEN);
export const TAG_ENTITY_REF_ID_KEYS = tag(3, WIRE_LEN); // repeated string
export const TAG_ENTITY_REF_DESCRIPTION_KEYS = tag(4, WIRE_LEN); // repeated string

// opentelemetry.proto.collector.{metrics,logs}.v1 and the first levels below them (metrics and
// logs pass through; only these levels are walked).
export const TAG_METRICS_REQUEST_RESOURCE_METRICS = tag(1, WIRE_LEN);
export const TAG_RESOURCE_METRICS_RESOURCE = tag(1, WIRE_LEN);
export const TAG_RESOURCE_METRICS_SCOPE_METRICS = tag(2, WIRE_LEN);
export const TAG_RESOURCE_METRICS_SCHEMA_URL = tag(3, WIRE_LEN);
export const TAG_SCOPE_METRICS_SCOPE = tag(1, WIRE_LEN);
export const TAG_SCOPE_METRICS_METRICS = tag(2, WIRE_LEN);
export const TAG_SCOPE_METRICS_SCHEMA_URL = tag(3, WIRE_LEN);

export const TAG_LOGS_REQUEST_RESOURCE_LOGS = tag(1, WIRE_LEN);
export const TAG_RESOURCE_LOGS_RESOURCE = tag(1, WIRE_LEN);
export const TAG_RESOURCE_LOGS_SCOPE_LOGS = tag(2, WIRE_LEN);
export const TAG_RESOURCE_LOGS_SCHEMA_URL = tag(3, WIRE_LEN);
export const TAG_SCOPE_LOGS_SCOPE = tag(1, WIRE_LEN);
export const TAG_SCOPE_LOGS_LOG_RECORDS = tag(2, WIRE_LEN);
export const TAG_SCOPE_LOGS_SCHEMA_URL = tag(3, WIRE_LEN);

// google.rpc.Status { 1 code int32, 2 message string, 3 details repeated google.protobuf.Any }
export const TAG_RPC_STATUS_CODE = tag(1, WIRE_VARINT);
export const TAG_RPC_STATUS_MESSAGE = tag(2, WIRE_LEN);
export const TAG_RPC_STATUS_DETAILS = tag(3, WIRE_LEN);
// google.protobuf.Any { 1 type_url string, 2 value bytes }
export const TAG_ANY_TYPE_URL = tag(1, WIRE_LEN);
export const TAG_ANY_VALUE = tag(2, WIRE_LEN);
// google.rpc.RetryInfo { 1 retry_delay google.protobuf.Duration }, Duration { 1 seconds int64, 2 nanos int32 }
export const TAG_RETRY_INFO_DELAY = tag(1, WIRE_LEN);
export const TAG_DURATION_SECONDS = tag(1, WIRE_VARINT);
export const TAG_DURATION_NANOS = tag(2, WIRE_VARINT);

/**
 * The known fields of one message, for the validator: a field number whose wire type differs
 * from its tag here is malformed (a decoder would misread it); numbers not listed are unknown
 * fields, skipped and kept.
 */
export interface MessageFields {
  readonly message: string;
  /** Expected wire type by field number, -1 for unknown numbers. */
  readonly wireTypes: Int8Array;
  /** Field names by number, for error messages. */
  readonly names: readonly string[];
}

function messageFields(message: string, fields: Record<string, number>): MessageFields {
  const max = Math.max(...Object.values(fields).map(fieldNumber));
  const wireTypes = new Int8Array(max + 1).fill(-1);
  const names: string[] = [];
  for (const [name, t] of Object.entries(fields)) {
    wireTypes[fieldNumber(t)] = t & 7;
    names[fieldNumber(t)] = name;
  }
  return { message, wireTypes, names };
}

export const TRACE_REQUEST_FIELDS = messageFields('ExportTraceServiceRequest', { resource_spans: TAG_TRACE_REQUEST_RESOURCE_SPANS });
export const RESOURCE_SPANS_FIELDS = messageFields('ResourceSpans', {
  resource: TAG_RESOURCE_SPANS_RESOURCE,
  scope_spans: TAG_RESOURCE_SPANS_SCOPE_SPANS,
  schema_url: TAG_RESOURCE_SPANS_SCHEMA_URL,
});
export const SCOPE_SPANS_FIELDS = messageFields('ScopeSpans', {
  scope: TAG_SCOPE_SPANS_SCOPE,
  spans: TAG_SCOPE_SPANS_SPANS,
  schema_url: TAG_SCOPE_SPANS_SCHEMA_URL,
});
export const SPAN_FIELDS = messageFields('Span', {
  trace_id: TAG_SPAN_TRACE_ID,
  span_id: TAG_SPAN_SPAN_ID,
  trace_state: TAG_SPAN_TRACE_STATE,
  parent_span_id: TAG_SPAN_PARENT_SPAN_ID,
  name: TAG_SPAN_NAME,
  kind: TAG_SPAN_KIND,
  start_time_unix_nano: TAG_SPAN_START_TIME,
  end_time_unix_nano: TAG_SPAN_END_TIME,
  attributes: TAG_SPAN_ATTRIBUTES,
  dropped_attributes_count: TAG_SPAN_DROPPED_ATTRIBUTES_COUNT,
  events: TAG_SPAN_EVENTS,
  dropped_events_count: TAG_SPAN_DROPPED_EVENTS_COUNT,
  links: TAG_SPAN_LINKS,
  dropped_links_count: TAG_SPAN_DROPPED_LINKS_COUNT,
  status: TAG_SPAN_STATUS,
  flags: TAG_SPAN_FLAGS,
});
export const EVENT_FIELDS = messageFields('Span.Event', {
  time_unix_nano: TAG_EVENT_TIME,
  name: TAG_EVENT_NAME,
  attributes: TAG_EVENT_ATTRIBUTES,
  dropped_attributes_count: TAG_EVENT_DROPPED_ATTRIBUTES_COUNT,
});
export const LINK_FIELDS = messageFields('Span.Link', {
  trace_id: TAG_LINK_TRACE_ID,
  span_id: TAG_LINK_SPAN_ID,
  trace_state: TAG_LINK_TRACE_STATE,
  attributes: TAG_LINK_ATTRIBUTES,
  dropped_attributes_count: TAG_LINK_DROPPED_ATTRIBUTES_COUNT,
  flags: TAG_LINK_FLAGS,
});
export const STATUS_FIELDS = messageFields('Status', { message: TAG_STATUS_MESSAGE, code: TAG_STATUS_CODE });
export const RESOURCE_FIELDS = messageFields('Resource', {
  attributes: TAG_RESOURCE_ATTRIBUTES,
  dropped_attributes_count: TAG_RESOURCE_DROPPED_ATTRIBUTES_COUNT,
  entity_refs: TAG_RESOURCE_ENTITY_REFS,
});
export const SCOPE_FIELDS = messageFields('InstrumentationScope', {
  name: TAG_SCOPE_NAME,
  version: TAG_SCOPE_VERSION,
  attributes: TAG_SCOPE_ATTRIBUTES,
  dropped_attributes_count: TAG_SCOPE_DROPPED_ATTRIBUTES_COUNT,
});
export const KEY_VALUE_FIELDS = messageFields('KeyValue', { key: TAG_KEY_VALUE_KEY, value: TAG_KEY_VALUE_VALUE });
export const ANY_VALUE_FIELDS = messageFields('AnyValue', {
  string_value: TAG_ANY_VALUE_STRING,
  bool_value: TAG_ANY_VALUE_BOOL,
  int_value: TAG_ANY_VALUE_INT,
  double_value: TAG_ANY_VALUE_DOUBLE,
  array_value: TAG_ANY_VALUE_ARRAY,
  kvlist_value: TAG_ANY_VALUE_KVLIST,
  bytes_value: TAG_ANY_VALUE_BYTES,
});
export const ARRAY_VALUE_FIELDS = messageFields('ArrayValue', { values: TAG_ARRAY_VALUE_VALUES });
export const KEY_VALUE_LIST_FIELDS = messageFields('KeyValueList', { values: TAG_KEY_VALUE_LIST_VALUES });
export const ENTITY_REF_FIELDS = messageFields('EntityRef', {
  schema_url: TAG_ENTITY_REF_SCHEMA_URL,
  type: TAG_ENTITY_REF_TYPE,
  id_keys: TAG_ENTITY_REF_ID_KEYS,
  description_keys: TAG_ENTITY_REF_DESCRIPTION_KEYS,
});
export const METRICS_REQUEST_FIELDS = messageFields('ExportMetricsServiceRequest', { resource_metrics: TAG_METRICS_REQUEST_RESOURCE_METRICS });
export const RESOURCE_METRICS_FIELDS = messageFields('ResourceMetrics', {
  resource: TAG_RESOURCE_METRICS_RESOURCE,
  scope_metrics: TAG_RESOURCE_METRICS_SCOPE_METRICS,
  schema_url: TAG_RESOURCE_METRICS_SCHEMA_URL,
});
export const SCOPE_METRICS_FIELDS = messageFields('ScopeMetrics', {
  scope: TAG_SCOPE_METRICS_SCOPE,
  metrics: TAG_SCOPE_METRICS_METRICS,
  schema_url: TAG_SCOPE_METRICS_SCHEMA_URL,
});
export const LOGS_REQUEST_FIELDS = messageFields('ExportLogsServiceRequest', { resource_logs: TAG_LOGS_REQUEST_RESOURCE_LOGS });
export const RESOURCE_LOGS_FIELDS = messageFields('ResourceLogs', {
  resource: TAG_RESOURCE_LOGS_RESOURCE,
  scope_logs: TAG_RESOURCE_LOGS_SCOPE_LOGS,
  schema_url: TAG_RESOURCE_LOGS_SCHEMA_URL,
});
export const SCOPE_LOGS_FIELDS = messageFields('ScopeLogs', {
  scope: TAG_SCOPE_LOGS_SCOPE,
  log_records: TAG_SCOPE_LOGS_LOG_RECORDS,
  schema_url: TAG_SCOPE_LOGS_SCHEMA_URL,
});
