// The deterministic, stateless trace ID rewrite (`tracecontext` processor,
// `on_invalid: rewrite`), for pipelines that feed a legacy X-Ray ingestion path.
//
// Rule. For a trace ID whose bytes 0-3 are not legacy-valid relative to the span's own start
// time s (whole seconds), bytes 4-15 are kept and bytes 0-3 become
//
//     o = bucketOffset(bytes 4-15) = traceBucketHash(bytes 4-15) mod W
//     b = s - ((s - o) mod W)                      (mod taken non-negative; b clamped at 0)
//
// the start of the epoch bucket of width W (`rewrite_window`, default 24 h) that contains s,
// with bucket boundaries at o + k*W. The result depends only on the original ID and the span's
// start, never on the local clock or on state, so every sidecar maps the spans of one trace
// that start in the same bucket to the same ID, whatever their clocks say.
//
// Why the result is always legacy-valid relative to s (proof, for 1 <= W <= 28 days):
//   0 <= (s - o) mod W <= W - 1, so s - (W - 1) <= b <= s.
//   The X-Ray check is: s - b <= maxAge (28 d) and s - b >= -maxSkew (-5 min).
//   s - b <= W - 1 < W <= 28 d = maxAge, and s - b >= 0 > -maxSkew.
//   Clamping b to 0 (only possible when s < W, i.e. in January 1970) keeps 0 <= s - b = s < W.
//   b <= s <= 2^32 - 1, so b fits the 4 bytes. Hence W must be an integer in [1, 28 days]:
//   rewriteWindowError() says so, and the rewrite functions throw RangeError otherwise
//   (a configuration bug, caught at start-up by config validation, never data-dependent).
// Relative to the exporter's clock at export time t >= s, the ID stays valid while
// t - s <= 28 d - (W - 1): with the default 24 h window, spans exported within 27 days.
//
// Trade-off: spans of one trace that start on both sides of the trace's bucket boundary get two
// different IDs (the trace splits). With boundaries offset per trace by a hash, a trace of
// duration d splits with probability about d / W, and splits are spread over the window instead
// of all traces splitting at midnight UTC.
//
// The hash is part of the contract: sidecars of different versions must agree, or a rolling
// upgrade splits traces. It is 32-bit FNV-1a over bytes 4-15 followed by the MurmurHash3
// fmix32 finaliser (FNV-1a alone mixes its last bytes poorly into the low bits that `mod W`
// keeps). Bytes 0-3 are excluded so that rewriting them does not move the bucket.
//
// Hot path: every function here works on bytes in place (a trace ID inside an encoded protobuf
// message, at an offset) and allocates nothing, except rewrittenTraceId, the convenience copy.

import { fnv1aFmix32 } from '../pdata/hash.ts';
import { TRACE_ID_BYTES, isValidTraceId } from './ids.ts';
import { XRAY_MAX_AGE_SECONDS, isXRayValidTraceId } from './xray-validity.ts';

/** Default `rewrite_window`: 24 hours, in seconds. */
export const DEFAULT_REWRITE_WINDOW_SECONDS = 24 * 60 * 60;
/** Smallest window for which the proof holds (any positive whole number of seconds). */
export const MIN_REWRITE_WINDOW_SECONDS = 1;
/** Largest window for which the proof holds: the X-Ray maxAge, 28 days. */
export const MAX_REWRITE_WINDOW_SECONDS = XRAY_MAX_AGE_SECONDS;
/** Largest epoch second the 4 bytes can hold (2106-02-07T06:28:15Z). */
const MAX_EPOCH_SECONDS = 0xffffffff;

/**
 * Undefined when `windowSeconds` is a usable rewrite window, else a message for config
 * validation: it must be a whole number of seconds in [1 s, 28 days].
 */
export function rewriteWindowError(windowSeconds: number): string | undefined {
  if (
    Number.isInteger(windowSeconds) &&
    windowSeconds >= MIN_REWRITE_WINDOW_SECONDS &&
    windowSeconds <= MAX_REWRITE_WINDOW_SECONDS
  ) {
    return undefined;
  }
  return `must be a whole number of seconds between 1s and 672h (28 days, the X-Ray maxAge), got ${windowSeconds}s`;
}

function checkWindow(windowSeconds: number): void {
  if (rewriteWindowError(windowSeconds) !== undefined) {
    throw new RangeError(`rewrite window ${rewriteWindowError(windowSeconds)}`);
  }
}

/**
 * True when `epochSeconds` can anchor a rewrite: finite, after the epoch (OTLP uses 0 for
 * "unset") and representable in 4 bytes. A span without one is rewritten relative to its
 * receive time instead (rewriteTraceIdAtReceiveTime), which the caller counts as non-deterministic.
 */
export function isUsableStartTime(epochSeconds: number): boolean {
  return Number.isFinite(epochSeconds) && epochSeconds >= 1 && epochSeconds <= MAX_EPOCH_SECONDS;
}

/**
 * The trace's stable 32-bit hash: FNV-1a over bytes 4-15 of the ID at `offset`, then the
 * MurmurHash3 fmix32 finaliser. Unsigned. Part of the rewrite contract: do not change it.
 */
export function traceBucketHash(traceId: Uint8Array, offset = 0): number {
  return fnv1aFmix32(traceId, offset + 4, offset + TRACE_ID_BYTES);
}

/** Where this trace's bucket boundaries fall within a window: a value in [0, windowSeconds). */
export function bucketOffsetSeconds(traceId: Uint8Array, windowSeconds: number, offset = 0): number {
  // The modulo bias is at most W / 2^32 (2e-5 for 24 h), far below anything measurable.
  return traceBucketHash(traceId, offset) % windowSeconds;
}

/**
 * The epoch second that the rewrite writes into bytes 0-3 for a span of this trace starting at
 * `startEpochSeconds` (fractions truncated). Assumes a usable start and a valid window.
 */
export function bucketStartSeconds(traceId: Uint8Array, startEpochSeconds: number, windowSeconds: number, offset = 0): number {
  const s = Math.floor(startEpochSeconds);
  let r = (s - bucketOffsetSeconds(traceId, windowSeconds, offset)) % windowSeconds;
  if (r < 0) r += windowSeconds;
  const b = s - r;
  return b < 0 ? 0 : b;
}

/**
 * Unconditionally replaces bytes 0-3 of the trace ID at `buf[offset..offset+16]` with the bucket
 * start for a span starting at `startEpochSeconds`; bytes 4-15 are untouched. Returns false and
 * leaves the bytes alone when the start time is not usable, the ID is all zero (invalid in every
 * format: nothing to preserve) or the result would be all zero.
 * Throws RangeError only for an invalid window (a configuration bug). Allocation-free.
 */
export function rewriteTraceIdInPlace(
  buf: Uint8Array,
  offset: number,
  startEpochSeconds: number,
  windowSeconds: number = DEFAULT_REWRITE_WINDOW_SECONDS,
): boolean {
  checkWindow(windowSeconds);
  if (!isUsableStartTime(startEpochSeconds) || !isValidTraceId(buf, offset)) return false;
  const b = bucketStartSeconds(buf, startEpochSeconds, windowSeconds, offset);
  const b0 = (b >>> 24) & 0xff;
  const b1 = (b >>> 16) & 0xff;
  const b2 = (b >>> 8) & 0xff;
  const b3 = b & 0xff;
  if (b === 0) {
    // Only for starts in January 1970: zeros would make an all-zero (invalid) ID when bytes
    // 4-15 are zero too.
    let rest = 0;
    for (let i = offset + 4; i < offset + TRACE_ID_BYTES; i++) rest |= buf[i]!;
    if (rest === 0) return false;
  }
  buf[offset] = b0;
  buf[offset + 1] = b1;
  buf[offset + 2] = b2;
  buf[offset + 3] = b3;
  return true;
}

/**
 * Outcome of rewriteTraceIdIfInvalid, as string constants (returning one allocates nothing):
 * 'kept' (already legacy-valid relative to the start: bytes untouched), 'rewritten', or
 * 'no-start-time' (the start time is not usable: bytes untouched; retry with
 * rewriteTraceIdAtReceiveTime and count a non-deterministic rewrite), or 'invalid-id' (all zero,
 * or too short a buffer: bytes untouched; the ID is broken in every format, drop or keep it).
 */
export type RewriteOutcome = 'kept' | 'rewritten' | 'no-start-time' | 'invalid-id';

/**
 * The processor's `on_invalid: rewrite` step for one span: keeps the trace ID at
 * `buf[offset..offset+16]` when it is legacy-valid relative to the span's start, else rewrites
 * it in place. Valid IDs never change. Allocation-free.
 */
export function rewriteTraceIdIfInvalid(
  buf: Uint8Array,
  offset: number,
  startEpochSeconds: number,
  windowSeconds: number = DEFAULT_REWRITE_WINDOW_SECONDS,
): RewriteOutcome {
  checkWindow(windowSeconds);
  if (!isValidTraceId(buf, offset)) return 'invalid-id';
  if (!isUsableStartTime(startEpochSeconds)) return 'no-start-time';
  if (isXRayValidTraceId(buf, startEpochSeconds, offset)) return 'kept';
  // Can fail only for a start in January 1970 with bytes 4-15 all zero.
  return rewriteTraceIdInPlace(buf, offset, startEpochSeconds, windowSeconds) ? 'rewritten' : 'invalid-id';
}

/**
 * For a span without a usable start time: the same rewrite, anchored at the time the sidecar
 * received the span. This is NOT deterministic across sidecars (each has its own receive time
 * and clock), so the caller counts every 'rewritten' outcome of this function as a
 * non-deterministic rewrite. Returns 'no-start-time' only if the receive time itself is unusable.
 * (A separate name so that call sites say which case they are in.)
 */
export function rewriteTraceIdAtReceiveTime(
  buf: Uint8Array,
  offset: number,
  receiveEpochSeconds: number,
  windowSeconds: number = DEFAULT_REWRITE_WINDOW_SECONDS,
): RewriteOutcome {
  return rewriteTraceIdIfInvalid(buf, offset, receiveEpochSeconds, windowSeconds);
}

/**
 * Convenience: a new array holding the ID that `on_invalid: rewrite` produces for a span of this
 * trace starting at `startEpochSeconds` (the same bytes when already valid), or undefined when
 * the input is not a 16-byte valid trace ID or the start time is not usable.
 */
export function rewrittenTraceId(
  traceId: Uint8Array,
  startEpochSeconds: number,
  windowSeconds: number = DEFAULT_REWRITE_WINDOW_SECONDS,
): Uint8Array | undefined {
  if (traceId.length !== TRACE_ID_BYTES || !isValidTraceId(traceId)) return undefined;
  // A copy, never a view: Buffer.prototype.slice shares memory with its source.
  const out = new Uint8Array(traceId);
  const outcome = rewriteTraceIdIfInvalid(out, 0, startEpochSeconds, windowSeconds);
  return outcome === 'kept' || outcome === 'rewritten' ? out : undefined;
}

/**
 * Reads an OTLP `fixed64` Unix-nanosecond timestamp (little-endian, e.g. a span's
 * start_time_unix_nano inside the encoded message) at `buf[offset..offset+8]` and returns whole
 * epoch seconds, exactly and without BigInt: long division by 1e9 over four 16-bit limbs keeps
 * every intermediate below 2^53. (A double of the full nanosecond count would be off by up to
 * 256 ns and could land on the wrong second.) Allocation-free.
 */
export function readUnixNanosAsEpochSeconds(buf: Uint8Array, offset: number): number {
  let q = 0;
  let r = 0;
  for (let limb = 3; limb >= 0; limb--) {
    const cur = r * 65536 + (buf[offset + 2 * limb]! | (buf[offset + 2 * limb + 1]! << 8));
    const d = Math.floor(cur / 1e9);
    r = cur - d * 1e9;
    q = q * 65536 + d;
  }
  return q;
}
