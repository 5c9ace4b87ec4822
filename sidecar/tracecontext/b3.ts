// B3 propagation (openzipkin/b3-propagation), multiple headers and the single `b3` header.
//
// Multi:  X-B3-TraceId (16 or 32 hex), X-B3-SpanId (16 hex), X-B3-ParentSpanId (16 hex, optional),
//         X-B3-Sampled (`1`/`0`; `true`/`false` accepted, as the spec allows lenient readers to),
//         X-B3-Flags (`1` = debug, which implies sampled; nothing else is defined).
// Single: b3: {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]], SamplingState `1`, `0` or
//         `d` (debug); or a bare decision `b3: 0` / `b3: 1` / `b3: d` with no IDs.
// A 64-bit trace ID becomes 16 bytes by left-padding with 8 zero bytes (the collector's zipkin
// receiver does the same); on output a trace ID whose first 8 bytes are zero is written as 16
// hex, as Brave (the B3 reference tracer) writes it, so Envoy's 64-bit mode keeps 64-bit IDs.
// Hex of either case is read (the OpenTelemetry JS B3 propagator and Envoy accept both); output
// is lowercase. Trace and span IDs are required together; an all-zero ID, bad hex or bad sampling
// state makes the value invalid (undefined).

import type { B3SamplingOnly, TraceContext } from './context.ts';
import { effectiveSampled } from './context.ts';
import { bytesToHex, isAllZero } from './hex.ts';
import { SPAN_ID_BYTES, TRACE_ID_BYTES, hexToSpanIdInto, hexToTraceIdInto } from './ids.ts';
import { trimOws } from './ows.ts';

export const B3_SINGLE_HEADER = 'b3';
export const B3_TRACE_ID_HEADER = 'x-b3-traceid';
export const B3_SPAN_ID_HEADER = 'x-b3-spanid';
export const B3_PARENT_SPAN_ID_HEADER = 'x-b3-parentspanid';
export const B3_SAMPLED_HEADER = 'x-b3-sampled';
export const B3_FLAGS_HEADER = 'x-b3-flags';

/** A parsed B3 value: IDs with a context, or only a sampling decision. */
export type B3Parsed = TraceContext | B3SamplingOnly;

/** 16 hex when the trace ID's first 8 bytes are zero (a 64-bit ID), else 32. */
function b3TraceIdHex(traceId: Uint8Array): string {
  return isAllZero(traceId, 0, 8) ? bytesToHex(traceId, 8, 8) : bytesToHex(traceId, 0, TRACE_ID_BYTES);
}

function parseTraceId(hex: string): Uint8Array | undefined {
  const out = new Uint8Array(TRACE_ID_BYTES);
  return hexToTraceIdInto(hex, out) ? out : undefined;
}

function parseSpanId(hex: string): Uint8Array | undefined {
  const out = new Uint8Array(SPAN_ID_BYTES);
  return hexToSpanIdInto(hex, out) ? out : undefined;
}

function samplingOnly(sampled: boolean, debug: boolean): B3SamplingOnly {
  return { samplingOnly: true, sampled: sampled || debug, debug };
}

function withSampling(ctx: TraceContext, sampled: boolean | undefined, debug: boolean): TraceContext {
  if (debug) {
    ctx.sampled = true;
    ctx.debug = true;
  } else if (sampled !== undefined) {
    ctx.sampled = sampled;
  }
  return ctx;
}

/** Parses a `b3` single-header value; undefined when invalid. Never throws. */
export function parseB3Single(value: string): B3Parsed | undefined {
  const v = trimOws(value);
  if (v === '0' || v === '1' || v === 'd') return samplingOnly(v === '1', v === 'd');
  const parts = v.split('-', 5);
  if (parts.length < 2 || parts.length > 4) return undefined;
  const traceId = parseTraceId(parts[0]!);
  const spanId = parseSpanId(parts[1]!);
  if (traceId === undefined || spanId === undefined) return undefined;
  const ctx: TraceContext = { traceId, spanId };
  const state = parts[2];
  if (state !== undefined && state !== '0' && state !== '1' && state !== 'd') return undefined;
  if (parts.length === 4) {
    const parent = parseSpanId(parts[3]!);
    if (parent === undefined) return undefined;
    ctx.parentSpanId = parent;
  }
  return withSampling(ctx, state === undefined ? undefined : state !== '0', state === 'd');
}

/**
 * Formats a `b3` single-header value, or undefined without a span ID. The parent is written only
 * when a sampling state is, because the format places it after the state.
 */
export function formatB3Single(ctx: TraceContext): string | undefined {
  if (ctx.spanId === undefined) return undefined;
  let s = `${b3TraceIdHex(ctx.traceId)}-${bytesToHex(ctx.spanId, 0, SPAN_ID_BYTES)}`;
  const sampled = effectiveSampled(ctx);
  if (sampled === undefined) return s;
  s += ctx.debug === true ? '-d' : sampled ? '-1' : '-0';
  if (ctx.parentSpanId !== undefined) s += `-${bytesToHex(ctx.parentSpanId, 0, SPAN_ID_BYTES)}`;
  return s;
}

/** The `b3` value for a decision without IDs: `d`, `1` or `0`. */
export function formatB3SamplingOnly(decision: B3SamplingOnly): string {
  return decision.debug ? 'd' : decision.sampled ? '1' : '0';
}

/**
 * Parses the multi-header form. `get` returns a header's value by lowercase name (undefined when
 * absent), e.g. `(n) => req.headers[n]` after picking the first of repeated values.
 * Undefined when no B3 header is present or any present one is invalid. Never throws.
 */
export function parseB3Multi(get: (lowercaseName: string) => string | undefined): B3Parsed | undefined {
  const traceHex = get(B3_TRACE_ID_HEADER);
  const spanHex = get(B3_SPAN_ID_HEADER);
  const parentHex = get(B3_PARENT_SPAN_ID_HEADER);
  const sampledText = get(B3_SAMPLED_HEADER);
  const flagsText = get(B3_FLAGS_HEADER);

  let sampled: boolean | undefined;
  if (sampledText !== undefined) {
    const t = trimOws(sampledText);
    if (t === '1' || t === 'true') sampled = true;
    else if (t === '0' || t === 'false') sampled = false;
    else return undefined;
  }
  // Only `1` is defined; other values (e.g. `0`) are read as "not debug", as Brave does.
  const debug = flagsText !== undefined && trimOws(flagsText) === '1';

  if (traceHex === undefined && spanHex === undefined && parentHex === undefined) {
    if (sampled === undefined && !debug) return undefined;
    return samplingOnly(sampled === true, debug);
  }
  if (traceHex === undefined || spanHex === undefined) return undefined;
  const traceId = parseTraceId(trimOws(traceHex));
  const spanId = parseSpanId(trimOws(spanHex));
  if (traceId === undefined || spanId === undefined) return undefined;
  const ctx: TraceContext = { traceId, spanId };
  if (parentHex !== undefined) {
    const parent = parseSpanId(trimOws(parentHex));
    if (parent === undefined) return undefined;
    ctx.parentSpanId = parent;
  }
  return withSampling(ctx, sampled, debug);
}

/**
 * The multi-header form as lowercase name -> value, or undefined without a span ID. Debug is sent
 * as `x-b3-flags: 1` without `x-b3-sampled` ("debug implies an accept decision, so don't also send
 * the X-B3-Sampled header", B3 spec).
 */
export function formatB3Multi(ctx: TraceContext): Record<string, string> | undefined {
  if (ctx.spanId === undefined) return undefined;
  const headers: Record<string, string> = {
    [B3_TRACE_ID_HEADER]: b3TraceIdHex(ctx.traceId),
    [B3_SPAN_ID_HEADER]: bytesToHex(ctx.spanId, 0, SPAN_ID_BYTES),
  };
  if (ctx.parentSpanId !== undefined) headers[B3_PARENT_SPAN_ID_HEADER] = bytesToHex(ctx.parentSpanId, 0, SPAN_ID_BYTES);
  if (ctx.debug === true) headers[B3_FLAGS_HEADER] = '1';
  else if (ctx.sampled !== undefined) headers[B3_SAMPLED_HEADER] = ctx.sampled ? '1' : '0';
  return headers;
}
