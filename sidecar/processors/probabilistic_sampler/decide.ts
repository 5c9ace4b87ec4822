// The per-span decision of the `probabilistic_sampler` processor: a pure function of the span's
// trace ID, tracestate text, flags and the sampler (built once from the config). No per-process
// state, so every sidecar (and a collector with the same settings) decides the same for a trace.
//
// Order, as in the collector's processor (plus the upstream rule first):
// 1. Upstream decision: a span whose OTLP flags are set (non-zero) with the W3C sampled bit (0x01)
//    clear was not sampled upstream: dropped (policy `trace_flags`), never kept as if sampled.
//    Flags 0 mean "unknown" (senders before the field existed, the Zipkin and X-Ray receivers) and
//    go on to the probabilistic decision.
// 2. Randomness: hash_seed mode hashes the trace ID; a tracestate that already carries `rv` or `th`
//    is an error there (the collector's "equalizing or proportional mode recommended"). The other
//    modes take `rv` when present, else the trace ID's low 56 bits. A zero or absent trace ID with
//    no `rv` has no randomness: an error.
// 3. Consistency: an incoming `th` that the randomness does not pass (the span should not have been
//    sampled) is removed and is an error.
// 4. Errors: fail_closed drops the span; otherwise it is kept (threshold 0).
// 5. Threshold: hash_seed, the configured one; equalizing, the larger (stricter) of the incoming
//    `th` and the configured one; proportional, the incoming probability times the configured ratio
//    (2^-56 and below: dropped).
// 6. Kept spans get `th` (and in hash_seed mode `rv`, the hash's randomness) in their tracestate. An
//    incoming `th` stricter than the new one stays: probability is never raised.
import type { ProbabilisticSamplerConfig, SamplerMode } from './config.ts';
import {
  ALWAYS,
  geq,
  hashAcceptBuckets,
  hashRandomness,
  hashThreshold,
  hex14,
  isZeroTraceId,
  NEVER,
  parseRandomness,
  parseThreshold,
  percentageRatio,
  probabilityToThreshold,
  thresholdProbability,
  traceIdHash,
  traceIdRandomness,
  tvalue,
  type U56,
} from './sampling.ts';
import { parseTraceState, serializeTraceState, type TraceState } from './tracestate.ts';

/** How the randomness was found (the collector's `policy` label values), or why the span went. */
export type Policy = 'trace_id_hash' | 'trace_id_w3c' | 'sampling_randomness' | 'missing_randomness' | 'trace_flags';

export interface Sampler {
  mode: SamplerMode;
  /** 0% configured: nothing is kept. */
  never: boolean;
  failClosed: boolean;
  seed: number;
  precision: number;
  /** proportional: the configured ratio. */
  ratio: number;
  /** hash_seed and equalizing: the configured threshold; proportional: the one without incoming `th`. */
  threshold: U56;
}

export function makeSampler(cfg: ProbabilisticSamplerConfig): Sampler {
  const ratio = percentageRatio(cfg.sampling_percentage);
  const base = { mode: cfg.mode, failClosed: cfg.fail_closed, seed: cfg.hash_seed >>> 0, precision: cfg.sampling_precision, ratio };
  if (ratio === 0) return { ...base, never: true, threshold: NEVER };
  if (cfg.mode === 'hash_seed') {
    const accept = hashAcceptBuckets(cfg.sampling_percentage);
    if (accept === 0) return { ...base, never: true, threshold: NEVER };
    return { ...base, never: false, threshold: hashThreshold(accept) };
  }
  return { ...base, never: false, threshold: probabilityToThreshold(ratio, cfg.sampling_precision) ?? NEVER };
}

export interface Decision {
  sampled: boolean;
  policy: Policy;
  /** The span's new tracestate text, when it is kept and the text changes. */
  tracestate: string | undefined;
}

const EMPTY: TraceState = { ot: undefined, others: [] };

/**
 * Decides for one span. `traceIdOff` is the offset of its 16 trace ID bytes in `buf`, or -1;
 * `tracestate` its tracestate text ("" when absent); `flags` its OTLP flags (0 when absent).
 */
export function decide(s: Sampler, buf: Uint8Array, traceIdOff: number, tracestate: string, flags: number): Decision {
  if (flags !== 0 && (flags & 0x01) === 0) return { sampled: false, policy: 'trace_flags', tracestate: undefined };
  const hasId = traceIdOff >= 0 && !isZeroTraceId(buf, traceIdOff);
  const parsed = tracestate === '' ? EMPTY : parseTraceState(tracestate);
  let error = parsed === undefined;
  /** The tracestate edited on keep; undefined: leave it alone. */
  let carrier: TraceState | undefined;
  let rnd: U56 | undefined;
  let policy: Policy;

  if (s.mode === 'hash_seed' && !s.never) {
    policy = hasId ? 'trace_id_hash' : 'missing_randomness';
    if (hasId) rnd = hashRandomness(traceIdHash(buf, traceIdOff, s.seed));
    if (parsed !== undefined) {
      if (parsed.ot?.rv !== undefined || parsed.ot?.th !== undefined) error = true;
      else {
        carrier = { ot: { rv: rnd === undefined ? undefined : hex14(rnd), th: undefined, extras: parsed.ot?.extras ?? [] }, others: parsed.others };
      }
    }
  } else {
    const rv = parsed?.ot?.rv;
    if (rv !== undefined) {
      rnd = parseRandomness(rv);
      policy = 'sampling_randomness';
    } else if (hasId) {
      rnd = traceIdRandomness(buf, traceIdOff);
      policy = 'trace_id_w3c';
    } else {
      policy = 'missing_randomness';
    }
    if (parsed !== undefined) carrier = { ot: parsed.ot === undefined ? undefined : { ...parsed.ot }, others: parsed.others };
  }

  let incoming = carrier?.ot?.th === undefined ? undefined : parseThreshold(carrier.ot.th);
  if (!error && !s.never) {
    if (rnd === undefined) error = true;
    else if (incoming !== undefined && !geq(rnd, incoming)) {
      // The span should not have been sampled at its own threshold: that threshold is a lie.
      carrier!.ot!.th = undefined;
      incoming = undefined;
      error = true;
    }
  }

  let threshold: U56;
  if (s.never) threshold = NEVER;
  else if (error) threshold = s.failClosed ? NEVER : ALWAYS;
  else if (s.mode === 'equalizing') threshold = incoming !== undefined && geq(incoming, s.threshold) ? incoming : s.threshold;
  else if (s.mode === 'proportional') {
    threshold = incoming === undefined ? s.threshold : (probabilityToThreshold(thresholdProbability(incoming) * s.ratio, s.precision) ?? NEVER);
  } else threshold = s.threshold;

  const r = rnd ?? { hi: 0xff_ffff, lo: 0xffff_ffff };
  const sampled = threshold !== NEVER && geq(r, threshold);
  if (!sampled || carrier === undefined) return { sampled, policy, tracestate: undefined };

  const ot = carrier.ot ?? { rv: undefined, th: undefined, extras: [] };
  // Never lower an incoming threshold (raise the probability).
  if (incoming === undefined || geq(threshold, incoming)) ot.th = tvalue(threshold);
  carrier.ot = ot;
  const text = serializeTraceState(carrier);
  return { sampled, policy, tracestate: text === tracestate ? undefined : text };
}
