// Trace and span IDs: bytes <-> hex, and the X-Ray rendering of a trace ID.
//
// A trace ID is 16 bytes and a span ID 8 bytes; all-zero IDs are invalid in every format
// (W3C, B3, X-Ray, OTLP). The X-Ray form `1-<8 hex>-<24 hex>` is the same 16 bytes: bytes 0-3,
// a dash, bytes 4-15. The `...Into` functions write into a caller-provided buffer at an offset
// and allocate nothing: they are the ones for hot paths. The others return a new array.

import { bytesToHex, decodeHexInto, isAllZero } from './hex.ts';

export const TRACE_ID_BYTES = 16;
export const SPAN_ID_BYTES = 8;
/** Length of `1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx`. */
export const XRAY_TRACE_ID_LENGTH = 35;

/** A trace ID is valid when it is not all zero. */
export function isValidTraceId(bytes: Uint8Array, offset = 0): boolean {
  return bytes.length >= offset + TRACE_ID_BYTES && !isAllZero(bytes, offset, TRACE_ID_BYTES);
}

/** A span ID is valid when it is not all zero. */
export function isValidSpanId(bytes: Uint8Array, offset = 0): boolean {
  return bytes.length >= offset + SPAN_ID_BYTES && !isAllZero(bytes, offset, SPAN_ID_BYTES);
}

/** 32 lowercase hex characters. */
export function traceIdToHex(bytes: Uint8Array, offset = 0): string {
  return bytesToHex(bytes, offset, TRACE_ID_BYTES);
}

/** 16 lowercase hex characters. */
export function spanIdToHex(bytes: Uint8Array, offset = 0): string {
  return bytesToHex(bytes, offset, SPAN_ID_BYTES);
}

/**
 * Parses a 32-hex or 16-hex trace ID into `out[offset..offset+16]`. A 16-hex (64-bit) ID is
 * left-padded with 8 zero bytes, as the collector's zipkin receiver does. Hex of either case is
 * accepted (OTLP/JSON and Zipkin decoders accept both; output is always lowercase). Returns false
 * on bad length, bad hex or an all-zero result. Allocation-free.
 */
export function hexToTraceIdInto(hex: string, out: Uint8Array, offset = 0): boolean {
  if (out.length < offset + TRACE_ID_BYTES) return false;
  if (hex.length === 32) {
    if (!decodeHexInto(hex, 0, 16, out, offset, false)) return false;
  } else if (hex.length === 16) {
    out.fill(0, offset, offset + 8);
    if (!decodeHexInto(hex, 0, 8, out, offset + 8, false)) return false;
  } else {
    return false;
  }
  return !isAllZero(out, offset, TRACE_ID_BYTES);
}

/** `hexToTraceIdInto` returning a new 16-byte array, or undefined when invalid. */
export function hexToTraceId(hex: string): Uint8Array | undefined {
  const out = new Uint8Array(TRACE_ID_BYTES);
  return hexToTraceIdInto(hex, out) ? out : undefined;
}

/** Parses a 16-hex span ID (either case) into `out[offset..offset+8]`; false if bad or all zero. */
export function hexToSpanIdInto(hex: string, out: Uint8Array, offset = 0): boolean {
  return out.length >= offset + SPAN_ID_BYTES && hex.length === 16 && decodeHexInto(hex, 0, 8, out, offset, false) && !isAllZero(out, offset, SPAN_ID_BYTES);
}

/** `hexToSpanIdInto` returning a new 8-byte array, or undefined when invalid. */
export function hexToSpanId(hex: string): Uint8Array | undefined {
  const out = new Uint8Array(SPAN_ID_BYTES);
  return hexToSpanIdInto(hex, out) ? out : undefined;
}

/** `1-<bytes 0-3>-<bytes 4-15>` in lowercase hex. */
export function formatXRayTraceId(bytes: Uint8Array, offset = 0): string {
  return `1-${bytesToHex(bytes, offset, 4)}-${bytesToHex(bytes, offset + 4, 12)}`;
}

/**
 * Parses `1-<8 hex>-<24 hex>` (exactly 35 characters, hex of either case as the OpenTelemetry
 * AWS X-Ray propagator accepts) into `out[offset..offset+16]`. False on any other shape or an
 * all-zero ID. Allocation-free.
 */
export function parseXRayTraceIdInto(text: string, out: Uint8Array, offset = 0): boolean {
  return (
    text.length === XRAY_TRACE_ID_LENGTH &&
    out.length >= offset + TRACE_ID_BYTES &&
    text.charCodeAt(0) === 0x31 && // '1': the only X-Ray trace ID version
    text.charCodeAt(1) === 0x2d &&
    text.charCodeAt(10) === 0x2d &&
    decodeHexInto(text, 2, 4, out, offset, false) &&
    decodeHexInto(text, 11, 12, out, offset + 4, false) &&
    !isAllZero(out, offset, TRACE_ID_BYTES)
  );
}

/** `parseXRayTraceIdInto` returning a new 16-byte array, or undefined when invalid. */
export function parseXRayTraceId(text: string): Uint8Array | undefined {
  const out = new Uint8Array(TRACE_ID_BYTES);
  return parseXRayTraceIdInto(text, out) ? out : undefined;
}

/** True when the 16 bytes at `a[aOffset]` equal those at `b[bOffset]` (the link rule compares IDs). */
export function traceIdsEqual(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number): boolean {
  for (let i = 0; i < TRACE_ID_BYTES; i++) if (a[aOffset + i] !== b[bOffset + i]) return false;
  return true;
}
