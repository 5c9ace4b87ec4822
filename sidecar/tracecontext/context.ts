// The neutral trace context that every header format parses into and formats from, so that the
// header bridge can do "one present -> derive the others" with one parse and N formats.

/** One `key=value` field of an X-Amzn-Trace-Id header other than Root, Parent and Sampled. */
export interface XRayField {
  key: string;
  value: string;
}

/** What only an X-Amzn-Trace-Id header carries. */
export interface XRayExtra {
  /** The header said `Sampled=?`: the caller asks downstream to make the sampling decision. */
  sampledRequested?: boolean;
  /** `Lineage`, `Self` and unknown fields, in the order received, key case and value as sent. */
  fields?: readonly XRayField[];
}

/** A propagated trace context, independent of the header format it came in. */
export interface TraceContext {
  /** 16 bytes, never all zero. A 64-bit B3 trace ID is left-padded with 8 zero bytes. */
  traceId: Uint8Array;
  /**
   * 8 bytes, never all zero: the sender's span (W3C parent-id, X-Ray Parent, B3 SpanId).
   * Absent when the header carried none (X-Ray Root-only headers from ALB and API Gateway).
   */
  spanId?: Uint8Array;
  /** B3's ParentSpanId: the parent of `spanId`. No other format carries it. */
  parentSpanId?: Uint8Array;
  /** true: sampled; false: not sampled; undefined: decision deferred (none given, or `Sampled=?`). */
  sampled?: boolean;
  /** B3 debug (`X-B3-Flags: 1`, `b3: ...-d`). Implies sampled. */
  debug?: boolean;
  /**
   * The W3C trace-flags byte as received. Formatting keeps only the bits W3C defines for
   * version 00 (0x01 sampled, taken from `sampled`; 0x02 random, from here).
   */
  traceFlags?: number;
  /** W3C tracestate, carried as is (never parsed or reordered by tracebridge). */
  tracestate?: string;
  /** X-Ray-only fields, kept so that an X-Ray header re-formatted from this context loses nothing. */
  xray?: XRayExtra;
}

/**
 * A B3 value that carries a sampling decision and no IDs (`b3: 0`, `b3: 1`, `b3: d`, or only
 * `X-B3-Sampled` / `X-B3-Flags`). Nothing can be derived from it but the decision itself.
 */
export interface B3SamplingOnly {
  samplingOnly: true;
  sampled: boolean;
  debug: boolean;
}

/** True when a parsed B3 value carries IDs rather than only a sampling decision. */
export function isTraceContext(value: TraceContext | B3SamplingOnly): value is TraceContext {
  return !('samplingOnly' in value);
}

/** Effective sampling decision: debug implies sampled. */
export function effectiveSampled(ctx: TraceContext): boolean | undefined {
  return ctx.debug === true ? true : ctx.sampled;
}
