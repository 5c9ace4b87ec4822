// Text renderings of a batch for the debug exporter. `normal` is one line per span: the service,
// the span name and the trace ID in W3C and X-Ray form, so a user can grep either form.
import type { AnyValue, ExportTraceServiceRequest, KeyValue } from '../../pdata/otlp-schema.ts';
import { formatXRayTraceId, spanIdToHex, traceIdToHex } from '../../tracecontext/index.ts';

const KIND = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS = ['UNSET', 'OK', 'ERROR'];

function serviceName(attrs: KeyValue[] | undefined): string {
  const kv = attrs?.find((a) => a.key === 'service.name');
  return kv?.value?.stringValue ?? 'unknown_service';
}

export function anyValueText(v: AnyValue | undefined): string {
  if (v === undefined) return '';
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return String(v.boolValue);
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  if (v.bytesValue !== undefined) return Buffer.from(v.bytesValue).toString('base64');
  if (v.arrayValue !== undefined) return `[${(v.arrayValue.values ?? []).map(anyValueText).join(', ')}]`;
  if (v.kvlistValue !== undefined) return `{${(v.kvlistValue.values ?? []).map((kv) => `${kv.key}=${anyValueText(kv.value)}`).join(', ')}}`;
  return '';
}

function durationMs(start: unknown, end: unknown): string {
  const s = BigInt(start as bigint | string | number | undefined ?? 0);
  const e = BigInt(end as bigint | string | number | undefined ?? 0);
  return e >= s ? `${Number(e - s) / 1e6}ms` : '?';
}

export function formatSpanLines(req: ExportTraceServiceRequest, detailed: boolean): string[] {
  const lines: string[] = [];
  for (const rs of req.resourceSpans ?? []) {
    const service = serviceName(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        const trace = span.traceId ?? new Uint8Array(16);
        const parent = span.parentSpanId && span.parentSpanId.length > 0 ? spanIdToHex(span.parentSpanId) : '-';
        lines.push(
          `span service=${service} name=${JSON.stringify(span.name ?? '')} kind=${KIND[span.kind ?? 0] ?? span.kind} ` +
            `trace_id=${traceIdToHex(trace)} xray_trace_id=${formatXRayTraceId(trace)} span_id=${spanIdToHex(span.spanId ?? new Uint8Array(8))} ` +
            `parent_id=${parent} status=${STATUS[span.status?.code ?? 0] ?? span.status?.code} duration=${durationMs(span.startTimeUnixNano, span.endTimeUnixNano)}`,
        );
        if (detailed) {
          for (const a of rs.resource?.attributes ?? []) lines.push(`    resource ${a.key}=${anyValueText(a.value)}`);
          if (ss.scope?.name) lines.push(`    scope ${ss.scope.name} ${ss.scope.version ?? ''}`.trimEnd());
          for (const a of span.attributes ?? []) lines.push(`    attribute ${a.key}=${anyValueText(a.value)}`);
          for (const ev of span.events ?? []) lines.push(`    event ${ev.name ?? ''} at ${String(ev.timeUnixNano ?? '')}`);
          for (const l of span.links ?? []) lines.push(`    link trace_id=${traceIdToHex(l.traceId ?? new Uint8Array(16))} span_id=${spanIdToHex(l.spanId ?? new Uint8Array(8))}`);
          if (span.status?.message) lines.push(`    status_message ${span.status.message}`);
        }
      }
    }
  }
  return lines;
}
