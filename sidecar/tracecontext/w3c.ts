// W3C Trace Context: `traceparent` and `tracestate`.
//
// traceparent = version "-" trace-id "-" parent-id "-" trace-flags, lowercase hex only:
//   00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
// Rules followed (W3C Trace Context, "traceparent Header" and "Versioning of traceparent"):
// - version is 2 lowercase hex; `ff` is forbidden.
// - version 00 is exactly 55 characters: nothing may follow the flags.
// - a higher version is parsed for forward compatibility: at least 55 characters, the same first
//   four fields, and if longer, the character after the flags must be `-`; only the sampled bit
//   of its flags is used, since the meaning of the other bits may have changed.
// - all-zero trace-id or parent-id, uppercase hex, wrong lengths: invalid (the receiver must then
//   start a new trace and must also ignore tracestate).
// Formatting always writes version 00.
// tracestate is carried as is: tracebridge neither reads nor edits vendor entries.

import type { TraceContext } from './context.ts';
import { effectiveSampled } from './context.ts';
import { byteToHex, bytesToHex, decodeHexInto, isAllZero } from './hex.ts';
import { trimOws } from './ows.ts';

export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';

const VERSION_00_LENGTH = 55;
const FLAG_SAMPLED = 0x01;
/** W3C Trace Context Level 2: the rightmost 7 bytes of the trace ID are random. */
const FLAG_RANDOM = 0x02;
const scratch = new Uint8Array(2);

/**
 * Parses a traceparent value (surrounding spaces and tabs allowed). `tracestate`, when given, is
 * attached unchanged to a valid result and dropped with an invalid one, as the spec requires.
 * Returns undefined for anything invalid; never throws.
 */
export function parseTraceparent(value: string, tracestate?: string): TraceContext | undefined {
  const v = trimOws(value);
  if (v.length < VERSION_00_LENGTH) return undefined;
  // scratch[0] = version, scratch[1] = flags. Module-level: parsing is synchronous.
  if (!decodeHexInto(v, 0, 1, scratch, 0, true) || scratch[0] === 0xff) return undefined;
  const version = scratch[0]!;
  if (version === 0 ? v.length !== VERSION_00_LENGTH : v.length > VERSION_00_LENGTH && v.charCodeAt(VERSION_00_LENGTH) !== 0x2d) {
    return undefined;
  }
  if (v.charCodeAt(2) !== 0x2d || v.charCodeAt(35) !== 0x2d || v.charCodeAt(52) !== 0x2d) return undefined;
  const traceId = new Uint8Array(16);
  const spanId = new Uint8Array(8);
  if (
    !decodeHexInto(v, 3, 16, traceId, 0, true) ||
    !decodeHexInto(v, 36, 8, spanId, 0, true) ||
    !decodeHexInto(v, 53, 1, scratch, 1, true) ||
    isAllZero(traceId, 0, 16) ||
    isAllZero(spanId, 0, 8)
  ) {
    return undefined;
  }
  const traceFlags = version === 0 ? scratch[1]! : scratch[1]! & FLAG_SAMPLED;
  const ctx: TraceContext = { traceId, spanId, sampled: (traceFlags & FLAG_SAMPLED) !== 0, traceFlags };
  if (tracestate !== undefined) ctx.tracestate = tracestate;
  return ctx;
}

/**
 * Formats a version-00 traceparent, or undefined when the context has no span ID (a traceparent
 * must name a parent; the caller creates a span ID first if it needs one). The sampled flag is
 * `sampled` (or debug); an undefined decision is written as not sampled, W3C having no "deferred".
 */
export function formatTraceparent(ctx: TraceContext): string | undefined {
  if (ctx.spanId === undefined) return undefined;
  const flags = ((ctx.traceFlags ?? 0) & FLAG_RANDOM) | (effectiveSampled(ctx) === true ? FLAG_SAMPLED : 0);
  return `00-${bytesToHex(ctx.traceId, 0, 16)}-${bytesToHex(ctx.spanId, 0, 8)}-${byteToHex(flags)}`;
}
