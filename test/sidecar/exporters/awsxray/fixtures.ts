// Span fixtures for the X-Ray mapping: JSON files under testdata/ hold a resource, spans and the
// segment documents expected for them. Attribute values: JSON string / bool / integer / list as
// such, a non-integer number as a double, `{"double": 1}` for an integral double, `{"kv": {...}}`
// for a map, `{"bytes": "<base64>"}` for bytes. IDs are hex; times are nanosecond strings.
import { readdirSync, readFileSync } from 'node:fs';
import type { AnyValue, ExportTraceServiceRequest, KeyValue, Span } from '../../../../sidecar/pdata/otlp-schema.ts';
import { SpanKind, StatusCode } from '../../../../sidecar/pdata/otlp-schema.ts';
import { hexToSpanId, hexToTraceId } from '../../../../sidecar/tracecontext/index.ts';

export interface FixtureSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: keyof typeof SpanKind;
  start: string;
  end: string;
  attributes?: Record<string, unknown>;
  events?: { name: string; time?: string; attributes?: Record<string, unknown> }[];
  links?: { traceId: string; spanId: string; attributes?: Record<string, unknown> }[];
  status?: { code: keyof typeof StatusCode; message?: string };
}

export interface Fixture {
  file: string;
  description: string;
  config?: { indexed_attributes?: string[]; index_all_attributes?: boolean; aws_log_groups?: string[] };
  resource: Record<string, unknown>;
  spans: FixtureSpan[];
  expected: Record<string, unknown>[];
}

export function anyValue(v: unknown): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: BigInt(v) } : { doubleValue: v };
  if (typeof v === 'bigint') return { intValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  const o = v as Record<string, unknown>;
  if ('double' in o) return { doubleValue: o.double as number };
  if ('kv' in o) return { kvlistValue: { values: keyValues(o.kv as Record<string, unknown>) } };
  if ('bytes' in o) return { bytesValue: Buffer.from(o.bytes as string, 'base64') };
  throw new Error(`fixture value not understood: ${JSON.stringify(v)}`);
}

export function keyValues(attrs: Record<string, unknown> | undefined): KeyValue[] {
  return Object.entries(attrs ?? {}).map(([key, v]) => ({ key, value: anyValue(v) }));
}

function id16(hex: string): Uint8Array {
  const b = hexToTraceId(hex);
  if (b === undefined) throw new Error(`bad trace id ${hex}`);
  return b;
}

function id8(hex: string): Uint8Array {
  const b = hexToSpanId(hex);
  if (b === undefined) throw new Error(`bad span id ${hex}`);
  return b;
}

export function toSpan(f: FixtureSpan): Span {
  const span: Span = {
    traceId: id16(f.traceId),
    spanId: id8(f.spanId),
    name: f.name,
    kind: SpanKind[f.kind],
    startTimeUnixNano: BigInt(f.start),
    endTimeUnixNano: BigInt(f.end),
    attributes: keyValues(f.attributes),
  };
  if (f.parentSpanId !== undefined) span.parentSpanId = id8(f.parentSpanId);
  if (f.events !== undefined) {
    span.events = f.events.map((e) => ({ name: e.name, timeUnixNano: BigInt(e.time ?? f.start), attributes: keyValues(e.attributes) }));
  }
  if (f.links !== undefined) span.links = f.links.map((l) => ({ traceId: id16(l.traceId), spanId: id8(l.spanId), attributes: keyValues(l.attributes) }));
  if (f.status !== undefined) span.status = { code: StatusCode[f.status.code], message: f.status.message ?? '' };
  return span;
}

export function fixtureRequest(f: Fixture): ExportTraceServiceRequest {
  return {
    resourceSpans: [
      { resource: { attributes: keyValues(f.resource) }, scopeSpans: [{ scope: { name: 'fixture' }, spans: f.spans.map(toSpan) }] },
    ],
  };
}

const DIR = new URL('./testdata/', import.meta.url);

export function loadFixtures(): Fixture[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as Omit<Fixture, 'file'>) }));
}
