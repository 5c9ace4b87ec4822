// Span → X-Ray segment document: pure functions, the collector awsxrayexporter's mapping
// (internal/translator/segment.go MakeSegment) with the deviations noted in each section's file
// and in README.md. The sections run in the collector's order, because each takes the attributes
// it turns into fields out of the metadata: http → cause → aws → sql → annotations/metadata.
//
// Envoy shared spans (Zipkin `shared`): Envoy's Zipkin tracer gives the SERVER side of a call the
// span ID of the caller's CLIENT span, and X-Ray needs unique segment IDs. Rule: the CLIENT half
// keeps its ID; the SERVER half gets `id = derivedSegmentId(trace ID, span ID)` (derived-ids.ts,
// the same in every sidecar) and `parent_id = <the shared span ID>`, i.e. it becomes a child of
// the CLIENT subsegment, which is how X-Ray links a call to the service that served it. Nothing
// else changes: spans whose parent is the shared ID stay children of the CLIENT subsegment, so
// no parent link dangles and neither side needs to know the other. A SERVER span counts as a
// shared half when it carries `zipkin.shared: true` or when the same batch holds a CLIENT span
// with the same trace and span ID.
import type { ExportTraceServiceRequest, Span } from '../../pdata/otlp-schema.ts';
import { SpanKind } from '../../pdata/otlp-schema.ts';
import { formatXRayTraceId, isValidSpanId, isValidTraceId, spanIdToHex, traceIdsEqual } from '../../tracecontext/index.ts';
import { makeAttributeFields, type IndexingOptions } from './annotations.ts';
import { rawValue, SpanAttributes, attributeMap } from './attributes.ts';
import { makeAws, resourceInfo, type ResourceInfo } from './aws.ts';
import { makeCause } from './cause.ts';
import { derivedSegmentId } from './derived-ids.ts';
import type { LinkData } from '../../aws/xray-segment.ts';
import type { SegmentDocument } from './document.ts';
import { makeHttp } from './http.ts';
import { isAwsSdkSpan, segmentNameAndNamespace } from './segment-name.ts';
import { makeSql } from './sql.ts';

export const SHARED_SPAN_ATTRIBUTE = 'zipkin.shared';
const SHARED_SERVER_LABEL = 'tracebridge.zipkin.shared.server';

export interface TranslateOptions {
  indexing: IndexingOptions;
  /** `aws_log_groups`: CloudWatch log groups when the resource names none. */
  logGroups: readonly string[];
}

/**
 * OTLP fixed64 nanoseconds → float seconds. The collector divides the whole nanosecond count
 * (float64(ts)/1e9), which turns .25 s into .2499998 s at today's epochs; whole seconds and the
 * fraction are converted apart here, so decimal fractions stay as exact as a double allows.
 */
export function nanosToSeconds(ns: bigint | number | string | undefined): number {
  if (ns === undefined) return 0;
  const n = BigInt(ns);
  return Number(n / 1_000_000_000n) + Number(n % 1_000_000_000n) / 1e9;
}

function isTrue(span: Span, key: string): boolean {
  for (const kv of span.attributes ?? []) {
    if (kv.key === key) return kv.value?.boolValue === true || kv.value?.stringValue === 'true';
  }
  return false;
}

/**
 * One span as a segment document. `sharedServer`: the span is the SERVER half of a Zipkin shared
 * span (see the header); `toXRaySegments` decides it for a batch.
 */
export function toXRaySegment(span: Span, res: ResourceInfo, opts: TranslateOptions, sharedServer = false): SegmentDocument {
  const kind = span.kind ?? SpanKind.UNSPECIFIED;
  const traceId = span.traceId ?? new Uint8Array(16);
  const spanId = span.spanId ?? new Uint8Array(8);
  const hasParent = span.parentSpanId !== undefined && isValidSpanId(span.parentSpanId);
  const isSubsegment = kind !== SpanKind.SERVER && hasParent;
  const attrs = new SpanAttributes(span.attributes);
  const spanName = span.name ?? '';

  const http = makeHttp(kind, attrs, span.events);
  const outcome = makeCause(span, attrs, isAwsSdkSpan(attrs), res.sdkLanguage);
  const aws = makeAws(res, attrs);
  const sql = makeSql(spanName, attrs);
  // Only segments (local roots) carry the resource; subsegments would repeat it for every call.
  const fields = makeAttributeFields(attrs, isSubsegment ? undefined : res.entries, opts.indexing);
  const { name, namespace } = segmentNameAndNamespace(kind, spanName, attrs, res.attributes, isSubsegment);

  const doc: SegmentDocument = {
    name,
    id: spanIdToHex(spanId),
    trace_id: formatXRayTraceId(traceId),
    start_time: nanosToSeconds(span.startTimeUnixNano),
    end_time: nanosToSeconds(span.endTimeUnixNano),
    fault: outcome.fault,
    error: outcome.error,
    throttle: outcome.throttle,
  };
  if (hasParent) doc.parent_id = spanIdToHex(span.parentSpanId!);
  if (sharedServer && kind === SpanKind.SERVER) {
    doc.parent_id = doc.id;
    doc.id = derivedSegmentId(SHARED_SERVER_LABEL, traceId, spanId);
  }
  if (isSubsegment) doc.type = 'subsegment';
  if (namespace !== undefined) doc.namespace = namespace;
  if (res.origin !== undefined) doc.origin = res.origin;
  if (fields.user !== undefined) doc.user = fields.user;
  if (res.service !== undefined) doc.service = res.service;
  if (outcome.cause !== undefined) doc.cause = outcome.cause;
  if (http !== undefined) doc.http = http;
  if (aws !== undefined) doc.aws = aws;
  if (sql !== undefined) doc.sql = sql;
  if (fields.annotations !== undefined) doc.annotations = fields.annotations;
  if (fields.metadata !== undefined) doc.metadata = fields.metadata;
  const links = makeLinks(span);
  if (links !== undefined) doc.links = links;
  return doc;
}

function makeLinks(span: Span): LinkData[] | undefined {
  if (span.links === undefined || span.links.length === 0) return undefined;
  const out: LinkData[] = [];
  for (const l of span.links) {
    if (l.traceId === undefined || l.spanId === undefined || !isValidTraceId(l.traceId) || !isValidSpanId(l.spanId)) continue;
    const link: LinkData = { trace_id: formatXRayTraceId(l.traceId), id: spanIdToHex(l.spanId) };
    if (l.attributes !== undefined && l.attributes.length > 0) {
      const a: Record<string, unknown> = {};
      for (const kv of l.attributes) if (kv.value !== undefined) a[kv.key] = rawValue(kv.value);
      link.attributes = a;
    }
    out.push(link);
  }
  return out.length > 0 ? out : undefined;
}

/** What the exporter needs besides the document. */
export interface TranslatedSpan {
  doc: SegmentDocument;
  span: Span;
  /** The span was the SERVER half of a shared span and got a derived ID. */
  sharedServer: boolean;
}

/** Every span of a request, in order, with the shared-span rule applied across the batch. */
export function toXRaySegments(req: ExportTraceServiceRequest, opts: TranslateOptions, visit: (t: TranslatedSpan) => void): void {
  // Pass 1: CLIENT spans by span ID (trace ID to compare), needed only when there are SERVER spans.
  let servers = false;
  for (const rs of req.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) if (s.kind === SpanKind.SERVER) servers = true;
    }
  }
  let clients: Map<string, Uint8Array> | undefined;
  if (servers) {
    clients = new Map();
    for (const rs of req.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          if (s.kind === SpanKind.CLIENT && s.spanId?.length === 8 && s.traceId?.length === 16) clients.set(spanIdToHex(s.spanId), s.traceId);
        }
      }
    }
  }
  for (const rs of req.resourceSpans ?? []) {
    const res = resourceInfo(attributeMap(rs.resource?.attributes), opts.logGroups);
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        let sharedServer = false;
        if (span.kind === SpanKind.SERVER) {
          const peerTrace = clients !== undefined && clients.size > 0 && span.spanId?.length === 8 ? clients.get(spanIdToHex(span.spanId)) : undefined;
          sharedServer = (peerTrace !== undefined && span.traceId?.length === 16 && traceIdsEqual(peerTrace, 0, span.traceId, 0)) || isTrue(span, SHARED_SPAN_ATTRIBUTE);
        }
        visit({ doc: toXRaySegment(span, res, opts, sharedServer), span, sharedServer });
      }
    }
  }
}
