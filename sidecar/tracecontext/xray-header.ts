// The X-Amzn-Trace-Id header:
//   X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1
// Fields are `key=value` separated by `;`. Root is the trace ID in X-Ray form, Parent the
// sender's 16-hex span ID, Sampled `1`, `0` or `?` (decision requested from downstream). ALB and
// API Gateway often send Root alone; ALB also adds `Self=...`, Lambda `Lineage=...`, and
// applications may add their own fields: all of these are kept, in order.
//
// Parsing, and where it departs from the two reference implementations in node_modules:
// - Whitespace (spaces, tabs) around fields, keys and values is ignored, as both do.
// - Keys Root/Parent/Sampled match case-insensitively, as aws-xray-sdk-core's processTraceData
//   does (it lowercases keys). @opentelemetry/propagator-aws-xray matches them case-sensitively
//   and by prefix (`startsWith("Root")`, so `RootX=` counts as Root there); that prefix match is
//   not followed here: unknown keys are kept as fields.
// - Hex of either case is accepted, as the propagator does (its hex check is case-insensitive).
// - Root is required. Parent and Sampled are optional: the propagator rejects a header without
//   Sampled (and `Sampled=?`), but ALB/API Gateway Root-only headers are real traffic.
// - A malformed Root, Parent or Sampled value, or a repeated Root/Parent/Sampled, makes the whole
//   header invalid (undefined): guessing which of two Roots is meant would join the wrong trace.
// - A field without `=` or with an empty key carries nothing and is skipped, as the SDK does.
// Formatting writes Root, Parent, Sampled, then the kept fields in their received order.

import type { TraceContext, XRayField } from './context.ts';
import { effectiveSampled } from './context.ts';
import { bytesToHex } from './hex.ts';
import { SPAN_ID_BYTES, TRACE_ID_BYTES, formatXRayTraceId, hexToSpanIdInto, parseXRayTraceIdInto } from './ids.ts';
import { trimOws } from './ows.ts';

/** Lowercase, as Node.js presents incoming header names. */
export const XRAY_TRACE_HEADER = 'x-amzn-trace-id';

/** Parses an X-Amzn-Trace-Id value; undefined when invalid or without Root. Never throws. */
export function parseXRayHeader(value: string): TraceContext | undefined {
  let traceId: Uint8Array | undefined;
  let spanId: Uint8Array | undefined;
  let sampledText: string | undefined;
  const fields: XRayField[] = [];
  let pos = 0;
  while (pos <= value.length) {
    let end = value.indexOf(';', pos);
    if (end < 0) end = value.length;
    // Look for '=' only inside this field: indexOf from `pos` would rescan the rest of the
    // header for every field and make a long header of '='-less fields quadratic.
    let eq = pos;
    while (eq < end && value.charCodeAt(eq) !== 0x3d) eq++;
    if (eq < end) {
      const key = trimOws(value, pos, eq);
      const val = trimOws(value, eq + 1, end);
      switch (key.toLowerCase()) {
        case 'root':
          if (traceId !== undefined) return undefined;
          traceId = new Uint8Array(TRACE_ID_BYTES);
          if (!parseXRayTraceIdInto(val, traceId)) return undefined;
          break;
        case 'parent':
          if (spanId !== undefined) return undefined;
          spanId = new Uint8Array(SPAN_ID_BYTES);
          if (!hexToSpanIdInto(val, spanId)) return undefined;
          break;
        case 'sampled':
          if (sampledText !== undefined || (val !== '0' && val !== '1' && val !== '?')) return undefined;
          sampledText = val;
          break;
        case '':
          break;
        default:
          fields.push({ key, value: val });
      }
    }
    pos = end + 1;
  }
  if (traceId === undefined) return undefined;
  const ctx: TraceContext = { traceId };
  if (spanId !== undefined) ctx.spanId = spanId;
  if (sampledText === '1' || sampledText === '0') ctx.sampled = sampledText === '1';
  if (sampledText === '?' || fields.length > 0) {
    ctx.xray = {};
    if (sampledText === '?') ctx.xray.sampledRequested = true;
    if (fields.length > 0) ctx.xray.fields = fields;
  }
  return ctx;
}

/**
 * Formats an X-Amzn-Trace-Id value: `Root=...`, then `Parent=...` when the context has a span
 * ID, then `Sampled=1|0` (or `?` when the decision was requested and none is known), then the
 * X-Ray fields kept from an incoming header.
 */
export function formatXRayHeader(ctx: TraceContext): string {
  let s = `Root=${formatXRayTraceId(ctx.traceId)}`;
  if (ctx.spanId !== undefined) s += `;Parent=${bytesToHex(ctx.spanId, 0, SPAN_ID_BYTES)}`;
  const sampled = effectiveSampled(ctx);
  if (sampled !== undefined) s += sampled ? ';Sampled=1' : ';Sampled=0';
  else if (ctx.xray?.sampledRequested === true) s += ';Sampled=?';
  for (const f of ctx.xray?.fields ?? []) s += `;${f.key}=${f.value}`;
  return s;
}
