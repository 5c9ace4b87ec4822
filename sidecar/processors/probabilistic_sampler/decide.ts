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
import { parseTraceState, serializeTraceState, type OtState, type TraceState } from './tracestate.ts';

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
  /** `threshold` as `th` text. */
  thresholdText: string;
  /**
   * Memos of pure functions (never change a decision): the last tracestate parsed, and
   * proportional mode's threshold per incoming `th` text (few distinct values in real traffic).
   */
  memo: { text: string; parsed: TraceState | undefined; thresholds: Map<string, U56 | undefined>; combined: Map<string, U56> };
}

const EMPTY: TraceState = { ot: undefined, others: [] };
const MEMO_LIMIT = 256;

function parseMemo(s: Sampler, text: string): TraceState | undefined {
  if (text === '') return EMPTY;
  if (s.memo.text === text) return s.memo.parsed;
  const parsed = parseTraceState(text);
  s.memo.text = text;
  s.memo.parsed = parsed;
  return parsed;
}

/** An incoming `th` text as a threshold. */
function incomingThreshold(s: Sampler, th: string): U56 | undefined {
  const m = s.memo.thresholds;
  if (m.has(th)) return m.get(th);
  const t = parseThreshold(th);
  if (m.size >= MEMO_LIMIT) m.clear();
  m.set(th, t);
  return t;
}

/** proportional: the threshold of (incoming probability × ratio), or NEVER below 2^-56. */
function combined(s: Sampler, th: string, incoming: U56): U56 {
  let t = s.memo.combined.get(th);
  if (t === undefined) {
    t = probabilityToThreshold(thresholdProbability(incoming) * s.ratio, s.precision) ?? NEVER;
    if (s.memo.combined.size >= MEMO_LIMIT) s.memo.combined.clear();
    s.memo.combined.set(th, t);
  }
  return t;
}

export function makeSampler(cfg: ProbabilisticSamplerConfig): Sampler {
  const ratio = percentageRatio(cfg.sampling_percentage);
  const memo = { text: '', parsed: EMPTY, thresholds: new Map<string, U56 | undefined>(), combined: new Map<string, U56>() };
  const base = { mode: cfg.mode, failClosed: cfg.fail_closed, seed: cfg.hash_seed >>> 0, precision: cfg.sampling_precision, ratio, memo };
  if (ratio === 0) return { ...base, never: true, threshold: NEVER, thresholdText: '' };
  if (cfg.mode === 'hash_seed') {
    const accept = hashAcceptBuckets(cfg.sampling_percentage);
    if (accept === 0) return { ...base, never: true, threshold: NEVER, thresholdText: '' };
    const threshold = hashThreshold(accept);
    return { ...base, never: false, threshold, thresholdText: tvalue(threshold) };
  }
  const threshold = probabilityToThreshold(ratio, cfg.sampling_precision) ?? NEVER;
  return { ...base, never: false, threshold, thresholdText: tvalue(threshold) };
}

export interface Decision {
  sampled: boolean;
  policy: Policy;
  /** The span's new tracestate text, when it is kept and the text changes. */
  tracestate: string | undefined;
}

const MAX_RANDOMNESS: U56 = { hi: 0xff_ffff, lo: 0xffff_ffff };

/** Shared answers for dropped spans (no allocation on the common path). */
const DROPPED = new Map<Policy, Decision>();
function dropped(policy: Policy): Decision {
  let d = DROPPED.get(policy);
  if (d === undefined) {
    d = Object.freeze({ sampled: false, policy, tracestate: undefined });
    DROPPED.set(policy, d);
  }
  return d;
}

/**
 * Decides for one span. `traceIdOff` is the offset of its 16 trace ID bytes in `buf`, or -1;
 * `tracestate` its tracestate text ("" when absent); `flags` its OTLP flags (0 when absent).
 */
export function decide(s: Sampler, buf: Uint8Array, traceIdOff: number, tracestate: string, flags: number): Decision {
  if (flags !== 0 && (flags & 0x01) === 0) return dropped('trace_flags');
  const hasId = traceIdOff >= 0 && !isZeroTraceId(buf, traceIdOff);
  const parsed = parseMemo(s, tracestate);
  const hashing = s.mode === 'hash_seed' && !s.never;
  let error = parsed === undefined;
  /** Whether a kept span's tracestate is edited (the collector's "carrier"). */
  let edit = parsed !== undefined;
  let rnd: U56 | undefined;
  let policy: Policy;

  if (hashing) {
    policy = hasId ? 'trace_id_hash' : 'missing_randomness';
    if (hasId) rnd = hashRandomness(traceIdHash(buf, traceIdOff, s.seed));
    if (parsed?.ot?.rv !== undefined || parsed?.ot?.th !== undefined) {
      // Sampling information of another sampler: this mode must not touch it.
      error = true;
      edit = false;
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
  }

  let incoming = hashing || parsed?.ot?.th === undefined ? undefined : incomingThreshold(s, parsed.ot.th);
  /** The incoming th was inconsistent: removed from a kept span. */
  let clearTh = false;
  if (!error && !s.never) {
    if (rnd === undefined) error = true;
    else if (incoming !== undefined && !geq(rnd, incoming)) {
      // The span should not have been sampled at its own threshold: that threshold is a lie.
      clearTh = true;
      incoming = undefined;
      error = true;
    }
  }

  let threshold: U56;
  if (s.never) threshold = NEVER;
  else if (error) threshold = s.failClosed ? NEVER : ALWAYS;
  else if (s.mode === 'equalizing') threshold = incoming !== undefined && geq(incoming, s.threshold) ? incoming : s.threshold;
  else if (s.mode === 'proportional') {
    threshold = incoming === undefined ? s.threshold : combined(s, parsed!.ot!.th!, incoming);
  } else threshold = s.threshold;

  if (!geq(rnd ?? MAX_RANDOMNESS, threshold)) return dropped(policy);
  if (!edit) return { sampled: true, policy, tracestate: undefined };

  const old = parsed!.ot;
  // Never lower an incoming threshold (raise the probability).
  const th = incoming === undefined || geq(threshold, incoming) ? (threshold === s.threshold ? s.thresholdText : tvalue(threshold)) : old!.th;
  // The same th as it came (proportional/equalizing): the tracestate stays as it is.
  if (!hashing && !clearTh && th === old?.th) return { sampled: true, policy, tracestate: undefined };
  const ot: OtState = { rv: old?.rv, th, extras: old?.extras ?? [] };
  // hash_seed mode records the hash's randomness so consistent samplers downstream agree with it.
  if (hashing && rnd !== undefined) ot.rv = hex14(rnd);
  const text = serializeTraceState({ ot, others: parsed!.others });
  return { sampled: true, policy, tracestate: text === tracestate ? undefined : text };
}
