// Consistent probability sampling (OpenTelemetry OTEP 235 and the W3C Trace Context Level 2
// randomness), with the decisions of the OpenTelemetry Collector's `probabilistic_sampler` so a
// tracebridge sidecar and a collector configured alike keep the same spans.
//
// Rules:
// - Randomness R and threshold T are 56-bit unsigned numbers; a span is kept when R >= T. T = 0
//   keeps everything, T = 2^56 nothing. The probability of a threshold is (2^56 - T) / 2^56.
// - R is the `rv` sub-key of the `ot` tracestate member when present (14 hex digits), else the
//   trace ID's least-significant 56 bits (bytes 9..15, big-endian). hash_seed mode instead hashes
//   the trace ID (FNV-1a 32 over the seed's 4 little-endian bytes then the 16 ID bytes) and keeps
//   the span when the low 14 bits of the hash are below trunc(float32(percentage) * float32(163.84))
//   (the collector's original rule); the same number is spread into a 56-bit R (below) so a
//   consistent sampler downstream agrees with it.
// - `th` is T written as 1..14 hex digits with trailing zeros dropped ("0" for T = 0): 50% → th:8,
//   25% → th:c, 10% → th:e666 at 4 digits of precision.
// - A percentage becomes T = round-half-up to `precision` significant hex digits of
//   2^56 - round(p * 2^56), leading zero digits not counting (the collector's arithmetic, in float64
//   as it does it: the percentage is first rounded to float32, as the collector's config is).
//
// 56-bit numbers are held as two exact JavaScript numbers: `hi` (bits 55..32, up to 2^24 for
// T = 2^56) and `lo` (bits 31..0). BigInt only appears in rare paths (config, incoming thresholds
// in proportional mode).

import { fnv1a32 } from '../../pdata/hash.ts';

export { fnv1a32 };

/** Bits 55..32 and 31..0 of a 56-bit number (T = 2^56 has hi = 2^24, lo = 0). */
export interface U56 {
  hi: number;
  lo: number;
}

export const MAX_ADJUSTED_COUNT = 2n ** 56n;
export const ALWAYS: U56 = { hi: 0, lo: 0 };
export const NEVER: U56 = { hi: 0x100_0000, lo: 0 };
/** The smallest sampling probability a threshold can express. */
export const MIN_PROBABILITY = 2 ** -56;

export function geq(a: U56, b: U56): boolean {
  return a.hi > b.hi || (a.hi === b.hi && a.lo >= b.lo);
}

export function u56ToBigInt(u: U56): bigint {
  return (BigInt(u.hi) << 32n) | BigInt(u.lo);
}

export function u56FromBigInt(b: bigint): U56 {
  return { hi: Number(b >> 32n), lo: Number(b & 0xffff_ffffn) };
}

/** 14 hex digits (callers never pass 2^56). */
export function hex14(u: U56): string {
  return u.hi.toString(16).padStart(6, '0') + u.lo.toString(16).padStart(8, '0');
}

/** The `th` encoding: 14 hex digits without trailing zeros; "0" for always-sample. */
export function tvalue(t: U56): string {
  if (t.hi === 0 && t.lo === 0) return '0';
  return hex14(t).replace(/0+$/, '');
}

const HEX = /^[0-9a-fA-F]+$/;

/** Parses a `th` value (1..14 hex digits), or undefined when it is not one. */
export function parseThreshold(s: string): U56 | undefined {
  if (s.length === 0 || s.length > 14 || !HEX.test(s)) return undefined;
  const full = s.padEnd(14, '0');
  return { hi: parseInt(full.slice(0, 6), 16), lo: parseInt(full.slice(6), 16) };
}

/** Parses an `rv` value (exactly 14 hex digits), or undefined. */
export function parseRandomness(s: string): U56 | undefined {
  if (s.length !== 14 || !HEX.test(s)) return undefined;
  return { hi: parseInt(s.slice(0, 6), 16), lo: parseInt(s.slice(6), 16) };
}

/** The trace ID's least-significant 56 bits (bytes 9..15) as randomness. */
export function traceIdRandomness(buf: Uint8Array, off: number): U56 {
  return {
    hi: (buf[off + 9]! << 16) | (buf[off + 10]! << 8) | buf[off + 11]!,
    lo: ((buf[off + 12]! << 24) | (buf[off + 13]! << 16) | (buf[off + 14]! << 8) | buf[off + 15]!) >>> 0,
  };
}

/** All 16 bytes zero: W3C's invalid trace ID, which carries no randomness. */
export function isZeroTraceId(buf: Uint8Array, off: number): boolean {
  for (let i = 0; i < 16; i++) if (buf[off + i] !== 0) return false;
  return true;
}

// The seed's 4 bytes, little-endian, go first: scratch for the hash (hashing is synchronous).
const seedBytes = new Uint8Array(4);

/** The collector's hash of the 16 trace ID bytes at `off` with `seed` (seed bytes little-endian first). */
export function traceIdHash(buf: Uint8Array, off: number, seed: number): number {
  for (let i = 0; i < 4; i++) seedBytes[i] = (seed >>> (8 * i)) & 0xff;
  return fnv1a32(buf, off, off + 16, fnv1a32(seedBytes));
}

export const HASH_BUCKETS = 0x4000;

/**
 * The 56-bit randomness of a hash, as the collector spreads it: from most to least significant,
 * 14 bits of 16383 - (hash & 0x3fff) (so that "bucket < accept" reads "R >= T" with
 * T = (16384 - accept) << 42), 28 bits mixing the 18 unused hash bits (u ^ (u << 10)), and the 14
 * bucket bits again.
 */
export function hashRandomness(hash: number): U56 {
  const bucket = hash & (HASH_BUCKETS - 1);
  const rprime = HASH_BUCKETS - 1 - bucket;
  const unused = hash >>> 14;
  const mixed = (unused ^ (unused << 10)) >>> 0; // 28 bits
  return {
    hi: (rprime << 10) | (mixed >>> 18),
    lo: (((mixed & 0x3ffff) << 14) | bucket) >>> 0,
  };
}

/** hash_seed mode's accept count out of 16384: the collector's float32 arithmetic, truncated. */
export function hashAcceptBuckets(percentage: number): number {
  const pct = Math.min(Math.fround(percentage), 100);
  return Math.trunc(Math.fround(pct * Math.fround(HASH_BUCKETS / 100)));
}

/** hash_seed mode's threshold: (16384 - accept) << 42. */
export function hashThreshold(accept: number): U56 {
  return { hi: (HASH_BUCKETS - accept) << 10, lo: 0 };
}

/** Probability of a threshold, (2^56 - T) / 2^56, in float64. */
export function thresholdProbability(t: U56): number {
  return Number(MAX_ADJUSTED_COUNT - u56ToBigInt(t)) / 2 ** 56;
}

/**
 * Threshold of probability `p` (in [2^-56, 1]) rounded to `precision` significant hex digits,
 * or undefined when `p` is out of that range (the collector's ErrProbabilityRange). Leading zero
 * digits (p close to 1) add to the precision, as in the collector.
 */
export function probabilityToThreshold(p: number, precision: number): U56 | undefined {
  if (!(p >= MIN_PROBABILITY && p <= 1)) return undefined;
  if (p === 1) return ALWAYS;
  let prec = precision;
  for (let reject = 1 - p; reject * 16 < 1; ) {
    reject *= 16;
    prec++;
  }
  // More digits than a threshold has: the collector answers always-sample (ErrPrecisionUnderflow).
  if (prec > 14) return ALWAYS;
  const scaled = BigInt(Math.round(p * 2 ** 56));
  let t = MAX_ADJUSTED_COUNT - scaled;
  if (prec < 14) {
    const shift = BigInt(4 * (14 - prec));
    t = ((t + (1n << (shift - 1n))) >> shift) << shift;
  }
  return u56FromBigInt(t);
}

/** float64(float32(percentage)) / 100, clamped to [2^-56, 1] (0 stays 0). */
export function percentageRatio(percentage: number): number {
  const pct = Math.min(Math.fround(percentage), 100);
  if (pct <= 0) return 0;
  return Math.max(pct / 100, MIN_PROBABILITY);
}
