// One X-Ray segment document → one OTLP ResourceSpans: the segment and its embedded subsegments
// flattened (depth first, parents before children) into spans of one resource, as the collector's
// awsxrayreceiver translator.go ToTraces does. Pure; throws SegmentError where the collector
// rejects the whole document (bad IDs, unknown namespace).
import { hexToSpanId, parseXRayTraceId } from '../../tracecontext/ids.ts';
import { SpanKind, StatusCode, type ExportTraceServiceRequest, type Span, type SpanLink } from '../../pdata/otlp-schema.ts';
import { addAnnotations, addAwsToSpan, addHttp, addMetadata, addSql, ATTR, Attrs, causeEvents, resourceAttributes } from './attributes.ts';
import { SegmentError, type Segment } from './segment.ts';

// Seconds after 1970 that still fit the OTLP fixed64 nanosecond fields with room to spare.
const MAX_EPOCH_SECONDS = 1e10;

/**
 * Epoch seconds (a float with microsecond digits) → Unix nanoseconds. Scaled to microseconds
 * first: seconds × 1e9 exceeds 2^53 and would lose the last digits (the collector's float64 does).
 */
function toUnixNanos(seconds: number, field: string): bigint {
  if (!(seconds >= 0 && seconds < MAX_EPOCH_SECONDS)) throw new SegmentError(`${field} ${seconds} is not an epoch time in seconds`);
  return BigInt(Math.round(seconds * 1e6)) * 1000n;
}

function traceIdOf(text: string | undefined): Uint8Array {
  const id = text === undefined ? undefined : parseXRayTraceId(text);
  if (id === undefined) throw new SegmentError(`invalid X-Ray trace ID ${JSON.stringify(text)}`);
  return id;
}

function spanIdOf(text: string, what: string): Uint8Array {
  const id = hexToSpanId(text);
  if (id === undefined) throw new SegmentError(`invalid ${what} ${JSON.stringify(text)} (16 hex digits)`);
  return id;
}

function linksOf(seg: Segment): SpanLink[] {
  const links: SpanLink[] = [];
  for (const l of seg.links ?? []) {
    const traceId = l.trace_id === undefined ? undefined : parseXRayTraceId(l.trace_id);
    const spanId = l.id === undefined ? undefined : hexToSpanId(l.id);
    // A broken link loses the link, not the span.
    if (traceId === undefined || spanId === undefined) continue;
    const a = new Attrs();
    for (const [k, v] of Object.entries(l.attributes ?? {})) {
      if (typeof v === 'string') a.str(k, v);
      else if (typeof v === 'boolean') a.bool(k, v);
      else if (typeof v === 'number') a.double(k, v);
    }
    links.push({ traceId, spanId, attributes: a.list });
  }
  return links;
}

function toSpan(seg: Segment, traceId: Uint8Array, parentId: Uint8Array | undefined, document: boolean): Span {
  const attrs = new Attrs();
  // name.go: a client_ip means the segment records a served request.
  let kind: number = seg.http?.request?.client_ip !== undefined ? SpanKind.SERVER : SpanKind.UNSPECIFIED;
  if (seg.namespace === undefined) {
    if (kind === SpanKind.UNSPECIFIED) kind = SpanKind.INTERNAL;
  } else if (seg.namespace === 'aws' || seg.namespace === 'remote') {
    kind = SpanKind.CLIENT;
    if (seg.namespace === 'aws') attrs.str(ATTR.awsService, seg.name);
  } else if (seg.namespace === 'local') {
    if (kind === SpanKind.UNSPECIFIED) kind = SpanKind.INTERNAL;
  } else {
    throw new SegmentError(`unexpected namespace: ${seg.namespace}`);
  }
  const spanId = spanIdOf(seg.id, 'segment id');
  // A segment document (not `type: subsegment`) is the work of a service: where a request, a
  // message or a job entered it, even when it continues an upstream trace through parent_id (a
  // queue worker, a consumer). It is SERVER: X-Ray files any other kind with a parent under the
  // caller, and the service drops off the service map. (The collector's receiver calls only a
  // document without a parent SERVER; tracebridge follows the SDK, which made a segment.)
  // Subsegments (embedded, or sent alone) keep the kind their namespace gives.
  if (parentId === undefined || (document && seg.type !== 'subsegment')) kind = SpanKind.SERVER;

  const start = toUnixNanos(seg.start_time, 'start_time');
  // in_progress segments have no end_time: the span keeps end 0 and aws.xray.inprogress=true,
  // as the collector does; the completed segment arrives later with the same ID.
  const end = seg.end_time === undefined ? undefined : toUnixNanos(seg.end_time, 'end_time');

  attrs.bool(ATTR.inProgress, seg.in_progress);
  attrs.str('enduser.id', seg.user);
  let error = seg.http === undefined ? false : addHttp(seg.http, attrs);
  let statusMessage: string | undefined;
  let events: Span['events'] = [];
  if (seg.cause !== undefined) {
    error = true;
    const c = causeEvents(seg.cause, end ?? start);
    events = c.events;
    statusMessage = c.statusMessage;
  }
  // tracebridge: the collector's receiver derives the status from HTTP and cause only; a fault,
  // error or throttle flag without either still marks the span as failed here.
  if (seg.fault === true || seg.error === true || seg.throttle === true) error = true;
  if (seg.aws !== undefined) addAwsToSpan(seg.aws, attrs);
  if (seg.sql !== undefined) addSql(seg.sql, attrs);
  attrs.bool(ATTR.traced, seg.traced);
  if (seg.annotations !== undefined) addAnnotations(seg.annotations, attrs);
  if (seg.metadata !== undefined) addMetadata(seg.metadata, attrs);

  const span: Span = { traceId, spanId, name: seg.name, kind, startTimeUnixNano: start, attributes: attrs.list };
  if (parentId !== undefined) span.parentSpanId = parentId;
  if (end !== undefined) span.endTimeUnixNano = end;
  if (events.length > 0) span.events = events;
  const links = linksOf(seg);
  if (links.length > 0) span.links = links;
  if (error) span.status = statusMessage === undefined ? { code: StatusCode.ERROR } : { code: StatusCode.ERROR, message: statusMessage };
  return span;
}

function flatten(seg: Segment, traceId: Uint8Array, parentId: Uint8Array | undefined, out: Span[], document: boolean): void {
  const span = toSpan(seg, traceId, parentId, document);
  out.push(span);
  // Embedded subsegments carry no trace_id or parent_id: they inherit the document's trace and
  // have the enclosing (sub)segment as parent.
  for (const child of seg.subsegments ?? []) flatten(child, traceId, span.spanId, out, false);
}

/** The spans of one document, grouped under the resource its root segment describes. */
export function segmentToTraces(seg: Segment): ExportTraceServiceRequest {
  const traceId = traceIdOf(seg.trace_id);
  // A segment continuing an upstream trace, or an independent subsegment, names its parent.
  const parentId = seg.parent_id === undefined ? undefined : spanIdOf(seg.parent_id, 'parent_id');
  const spans: Span[] = [];
  flatten(seg, traceId, parentId, spans, true);
  return { resourceSpans: [{ resource: { attributes: resourceAttributes(seg) }, scopeSpans: [{ spans }] }] };
}
