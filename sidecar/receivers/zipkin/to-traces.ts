// Zipkin v2 spans → OTLP objects, mapped as the OpenTelemetry Collector's Zipkin receiver maps
// them (opentelemetry-collector-contrib pkg/translator/zipkin/zipkinv2/to_translator.go), so users
// find the attributes they know. The mapping table is in README.md; deviations are marked
// "Deviation" below and there.
//
// Cost: one pass over each span's tags with one Map lookup per tag; resource and scope
// attributes are built once per group, not per span; no closures are created per span.
import type {
  AnyValue,
  ExportTraceServiceRequest,
  KeyValue,
  ResourceSpans,
  ScopeSpans,
  Span,
  SpanEvent,
  SpanLink,
} from '../../pdata/otlp-schema.ts';
import { SpanKind, StatusCode } from '../../pdata/otlp-schema.ts';
import { parseHexId, sameId, type ZipkinAnnotation, type ZipkinSpan } from './model.ts';
import { RESOURCE_TAG_KEYS, SERVICE_NAME_SOURCE_TAG } from './resource-keys.ts';

export interface MappingOptions {
  /** Tags that look like ints, doubles or booleans become typed attributes (collector `parse_string_tags`). */
  parseStringTags: boolean;
}

/** Set on spans that arrived without a timestamp (collector zipkin.StartTimeAbsent). */
export const START_TIME_ABSENT = 'otel.zipkin.absentField.startTime';

// What a tag key means to the mapping; absent from the map = an ordinary attribute.
const SKIP = 0; // resource, scope and bookkeeping tags: never span attributes
const STATUS_DESCRIPTION = 1;
const ERROR = 2;
const SPAN_KIND = 3;
const HOST_IP = 4;
const HOST_PORT = 5;
const PEER_SERVICE = 6;
const PEER_IP = 7;
const PEER_PORT = 8;
const ABSENT_START = 9;

const TAG_ROLE = new Map<string, number>([
  ...RESOURCE_TAG_KEYS.map((k) => [k, SKIP] as [string, number]),
  [SERVICE_NAME_SOURCE_TAG, SKIP],
  ['otel.library.name', SKIP],
  ['otel.library.version', SKIP],
  // Newer collectors (EmitV1ScopeConventions) use the otel.scope.* names; both are read here.
  ['otel.scope.name', SKIP],
  ['otel.scope.version', SKIP],
  ['otel.status_code', SKIP],
  ['w3c.tracestate', SKIP],
  ['otel.status_description', STATUS_DESCRIPTION],
  ['error', ERROR],
  ['span.kind', SPAN_KIND],
  ['net.host.ip', HOST_IP],
  ['net.host.port', HOST_PORT],
  ['peer.service', PEER_SERVICE],
  ['net.peer.ip', PEER_IP],
  ['net.peer.port', PEER_PORT],
  [START_TIME_ABSENT, ABSENT_START],
]);
const RESOURCE_TAGS = new Set(RESOURCE_TAG_KEYS);

// The collector's statusCodeValue, plus the OpenTelemetry specification's names (UNSET/OK/ERROR),
// which the OpenTelemetry SDK Zipkin exporters send. Deviation: the collector maps those to UNSET.
function statusCodeOf(value: string): number {
  switch (value) {
    case 'STATUS_CODE_OK':
    case 'Ok':
    case 'OK':
      return StatusCode.OK;
    case 'STATUS_CODE_ERROR':
    case 'Error':
    case 'ERROR':
      return StatusCode.ERROR;
    default:
      return StatusCode.UNSET;
  }
}

function kindOf(kind: string): number {
  switch (kind) {
    case 'CLIENT':
      return SpanKind.CLIENT;
    case 'SERVER':
      return SpanKind.SERVER;
    case 'PRODUCER':
      return SpanKind.PRODUCER;
    case 'CONSUMER':
      return SpanKind.CONSUMER;
    default:
      return -1;
  }
}

/** Epoch microseconds (possibly fractional) to nanoseconds, exact for whole microseconds. */
export function microsToNanos(us: number): bigint {
  const whole = Math.trunc(us);
  const frac = us - whole;
  const ns = BigInt(whole) * 1000n;
  return frac === 0 ? ns : ns + BigInt(Math.round(frac * 1000));
}

const INT = /^-?\d+$/;
const DOUBLE = /^-?\d+\.\d+$/;
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/** The collector's DetermineValueType applied to a tag (parse_string_tags). */
function typedValue(v: string): AnyValue {
  if (v === 'true' || v === 'false') return { boolValue: v === 'true' };
  if (INT.test(v)) {
    // strconv.ParseInt saturates out-of-range values; so does this.
    const n = BigInt(v);
    return { intValue: n > INT64_MAX ? INT64_MAX : n < INT64_MIN ? INT64_MIN : n };
  }
  if (DOUBLE.test(v)) return { doubleValue: Number(v) };
  return { stringValue: v };
}

/** Values of a JSON object to attributes, as the collector's jsonMapToAttributeMap. */
function jsonAttributes(obj: Record<string, unknown>): KeyValue[] {
  const out: KeyValue[] = [];
  for (const key in obj) {
    const v = obj[key];
    if (typeof v === 'string') out.push({ key, value: { stringValue: v } });
    else if (typeof v === 'number') out.push({ key, value: Number.isInteger(v) ? { intValue: BigInt(v) } : { doubleValue: v } });
    else if (typeof v === 'boolean') out.push({ key, value: { boolValue: v } });
  }
  return out;
}

/** `json|dropped` tail of the collector's encoded annotations and links, or undefined. */
function parseEncodedTail(parts: string[], from: number): { attributes: KeyValue[]; dropped: number } | undefined {
  const dropped = parts[parts.length - 1]!;
  if (!/^\d+$/.test(dropped)) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(parts.slice(from, parts.length - 1).join('|'));
  } catch {
    return undefined;
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  return { attributes: jsonAttributes(obj as Record<string, unknown>), dropped: Number(dropped) };
}

/**
 * Annotation → event. The collector's own Zipkin exporter writes `name|{attributes}|dropped`;
 * Deviation: a value that only looks like that stays the event name (the collector fails the
 * whole request on it).
 */
function toEvent(a: ZipkinAnnotation): SpanEvent {
  const event: SpanEvent = { timeUnixNano: microsToNanos(a.timestampUs), name: a.value };
  if (a.value.includes('|')) {
    const parts = a.value.split('|');
    const tail = parts.length >= 3 ? parseEncodedTail(parts, 1) : undefined;
    if (tail !== undefined) {
      event.name = parts[0]!;
      event.attributes = tail.attributes;
      if (tail.dropped > 0) event.droppedAttributesCount = tail.dropped;
    }
  }
  return event;
}

const unquote = (s: string) => (s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s);

/**
 * The collector's `otlp.link.<n>` tags (`traceId|spanId|traceState|{attributes}|dropped`, n from
 * 0 while present, at most 128). Returns the keys it consumed; Deviation: a malformed link stays a
 * string attribute instead of failing the request.
 */
function linksFromTags(tags: Record<string, string>, links: SpanLink[]): Set<string> {
  const consumed = new Set<string>();
  for (let i = 0; i < 128; i++) {
    const key = `otlp.link.${i}`;
    const val = tags[key];
    if (typeof val !== 'string') break;
    const parts = val.split('|');
    if (parts.length < 5) {
      consumed.add(key); // the collector drops these silently
      continue;
    }
    const traceText = unquote(parts[0]!);
    const spanText = unquote(parts[1]!);
    const traceId = traceText === '' ? Buffer.alloc(16) : traceText.length === 32 ? parseHexId(traceText, 16) : undefined;
    const spanId = spanText === '' ? Buffer.alloc(8) : spanText.length === 16 ? parseHexId(spanText, 8) : undefined;
    const tail = parseEncodedTail(parts, 3);
    if (traceId === undefined || spanId === undefined || tail === undefined) continue;
    const link: SpanLink = { traceId, spanId, attributes: tail.attributes };
    if (parts[2] !== '') link.traceState = parts[2]!;
    if (tail.dropped > 0) link.droppedAttributesCount = tail.dropped;
    links.push(link);
    consumed.add(key);
  }
  return consumed;
}

const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): KeyValue => ({ key, value: { intValue: BigInt(v) } });

function toSpan(z: ZipkinSpan, opts: MappingOptions): Span {
  const tags = z.tags;
  const span: Span = {
    traceId: z.traceId,
    spanId: z.id,
    name: z.name,
    kind: SpanKind.UNSPECIFIED,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
  };
  const traceState = tags['w3c.tracestate'];
  if (typeof traceState === 'string') span.traceState = traceState;
  // A self-parent (seen from some B3 propagations) would make the span its own ancestor.
  if (z.parentId !== undefined && !sameId(z.parentId, z.id)) span.parentSpanId = z.parentId;

  // Kind: Zipkin's four kinds; otherwise the `span.kind` tag is consumed and only "internal"
  // counts (collector zipkinKindToSpanKind). A span without kind stays UNSPECIFIED, as there.
  let kind = kindOf(z.kind);
  const kindFromTag = kind < 0;
  if (kindFromTag) kind = tags['span.kind'] === 'internal' ? SpanKind.INTERNAL : SpanKind.UNSPECIFIED;
  span.kind = kind;

  // Status (collector populateSpanStatus): otel.status_code (+ otel.status_description), then
  // any `error` tag forces ERROR; `error: "true"` is consumed, other values stay an attribute.
  let code: number = StatusCode.UNSET;
  let message = '';
  const statusTag = tags['otel.status_code'];
  const hasStatusTag = typeof statusTag === 'string';
  if (hasStatusTag) {
    code = statusCodeOf(statusTag);
    const d = tags['otel.status_description'];
    if (typeof d === 'string') message = d;
  }
  const errorTag = tags.error;
  if (typeof errorTag === 'string') {
    code = StatusCode.ERROR;
    // Deviation: the OpenTelemetry Zipkin exporters put the description in `error`; use it.
    if (message === '' && errorTag !== 'true') message = errorTag;
  }
  if (code !== StatusCode.UNSET || message !== '') span.status = message === '' ? { code } : { code, message };

  let consumedLinks: Set<string> | undefined;
  if (typeof tags['otlp.link.0'] === 'string') {
    const links: SpanLink[] = [];
    consumedLinks = linksFromTags(tags, links);
    if (links.length > 0) span.links = links;
  }

  // Endpoint attributes win over tags of the same name (the collector Puts them last).
  const local = z.localEndpoint;
  const remote = z.remoteEndpoint;
  const hostIp = local === undefined ? '' : local.ipv6 || local.ipv4;
  const hostPort = local === undefined ? 0 : local.port;
  const peerService = remote === undefined ? '' : remote.serviceName;
  const peerIp = remote === undefined ? '' : remote.ipv6 || remote.ipv4;
  const peerPort = remote === undefined ? 0 : remote.port;
  const absentStart = z.timestampUs === 0;

  const attrs: KeyValue[] = [];
  for (const key in tags) {
    const role = TAG_ROLE.get(key);
    if (role !== undefined) {
      if (role === SKIP) continue;
      if (role === STATUS_DESCRIPTION && hasStatusTag) continue;
      if (role === ERROR && errorTag === 'true') continue;
      if (role === SPAN_KIND && kindFromTag) continue;
      if (role === HOST_IP && hostIp !== '') continue;
      if (role === HOST_PORT && hostPort > 0) continue;
      if (role === PEER_SERVICE && peerService !== '') continue;
      if (role === PEER_IP && peerIp !== '') continue;
      if (role === PEER_PORT && peerPort > 0) continue;
      if (role === ABSENT_START && absentStart) continue;
    } else if (consumedLinks !== undefined && consumedLinks.has(key)) {
      continue;
    }
    const v = tags[key]!;
    attrs.push({ key, value: opts.parseStringTags ? typedValue(v) : { stringValue: v } });
  }
  if (hostIp !== '') attrs.push(str('net.host.ip', hostIp));
  if (hostPort > 0) attrs.push(int('net.host.port', hostPort));
  if (peerService !== '') attrs.push(str('peer.service', peerService));
  if (peerIp !== '') attrs.push(str('net.peer.ip', peerIp));
  if (peerPort > 0) attrs.push(int('net.peer.port', peerPort));

  // A span without timestamp starts at the epoch and is flagged (collector setTimestampsV2).
  const start = absentStart ? 0n : microsToNanos(z.timestampUs);
  span.startTimeUnixNano = start;
  span.endTimeUnixNano = start + microsToNanos(z.durationUs);
  if (absentStart) attrs.push({ key: START_TIME_ABSENT, value: { boolValue: true } });
  // tracebridge addition (the collector records nothing for `shared`): Envoy's SERVER half shares
  // the CLIENT half's span ID, usually in another pod's sidecar. The X-Ray exporter needs to know,
  // to give the SERVER segment its own ID (exporters/awsxray README). Fluent Bit uses this key too.
  if (z.shared) attrs.push({ key: 'zipkin.shared', value: { boolValue: true } });
  span.attributes = attrs;

  const n = z.annotations.length;
  if (n > 0) {
    const events = new Array<SpanEvent>(n);
    for (let i = 0; i < n; i++) events[i] = toEvent(z.annotations[i]!);
    span.events = events;
  }
  return span;
}

/** Upsert for the few resource attributes built once per service. */
function put(attrs: KeyValue[], key: string, value: string): void {
  for (const a of attrs) {
    if (a.key === key) {
      a.value = { stringValue: value };
      return;
    }
  }
  attrs.push(str(key, value));
}

/**
 * The resource of a service group, from its first span (collector populateResourceFromZipkinSpan):
 * `service.name` (or the key named by `otlp.service.name.source`) = localEndpoint.serviceName,
 * then the span's resource-convention tags. Spans without a service name get an empty resource.
 */
function resourceOf(z: ZipkinSpan, service: string): KeyValue[] {
  const attrs: KeyValue[] = [];
  if (service === '') return attrs;
  const tags = z.tags;
  const source = tags[SERVICE_NAME_SOURCE_TAG];
  attrs.push(str(typeof source === 'string' && source !== '' ? source : 'service.name', service));
  for (const key in tags) if (RESOURCE_TAGS.has(key)) put(attrs, key, tags[key]!);
  return attrs;
}

interface ServiceGroup {
  rs: ResourceSpans & { scopeSpans: ScopeSpans[] };
  byScope: Map<string, Span[]>;
}

/**
 * One ResourceSpans per local service name and one ScopeSpans per instrumentation scope within
 * it, in order of first appearance (the collector sorts by the same two keys and groups runs).
 */
export function toTraceRequest(spans: readonly ZipkinSpan[], opts: MappingOptions): ExportTraceServiceRequest {
  const groups = new Map<string, ServiceGroup>();
  const resourceSpans: ResourceSpans[] = [];
  for (const z of spans) {
    const service = z.localEndpoint?.serviceName ?? '';
    let g = groups.get(service);
    if (g === undefined) {
      g = { rs: { resource: { attributes: resourceOf(z, service) }, scopeSpans: [] }, byScope: new Map() };
      groups.set(service, g);
      resourceSpans.push(g.rs);
    }
    const tags = z.tags;
    const scopeTag = tags['otel.scope.name'] ?? tags['otel.library.name'];
    const scopeName = typeof scopeTag === 'string' ? scopeTag : '';
    let list = g.byScope.get(scopeName);
    if (list === undefined) {
      list = [];
      const ss: ScopeSpans = { spans: list };
      if (scopeName !== '') {
        const version = tags['otel.scope.version'] ?? tags['otel.library.version'];
        ss.scope = typeof version === 'string' ? { name: scopeName, version } : { name: scopeName };
      }
      g.rs.scopeSpans.push(ss);
      g.byScope.set(scopeName, list);
    }
    list.push(toSpan(z, opts));
  }
  return { resourceSpans };
}
