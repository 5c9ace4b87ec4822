// The `probabilistic_sampler` processor on encoded OTLP bytes (no decode). Per span it reads the
// trace ID where the batch's view says it is, and the tracestate (field 3) and flags (field 16) by
// walking the span's own fields; decide.ts makes the decision. Dropped spans and kept spans whose
// tracestate changes are edited in one re-framing pass; every other span, and every field of an
// edited span but its tracestate, stays byte-identical. A batch with nothing to drop or rewrite
// passes as it is.
import type { CreateSettings, Processor, TracesConsumer } from '../../component/component.ts';
import { TAG_SPAN_FLAGS, TAG_SPAN_TRACE_STATE } from '../../pdata/fields.ts';
import { TracesData } from '../../pdata/traces.ts';
import { editSpanPayloads, lenField } from '../../pdata/splice.ts';
import { WireReader } from '../../pdata/wire.ts';
import type { BoundCounter, Counter } from '../../telemetry/metrics.ts';
import type { ProbabilisticSamplerConfig } from './config.ts';
import { decide, makeSampler, type Policy, type Sampler } from './decide.ts';

export const SPANS_PROCESSED_METRIC = 'tracebridge_probabilistic_sampler_spans_processed_total';

export class ProbabilisticSamplerProcessor implements Processor {
  // Output bytes are always new; the input is only read.
  readonly mutatesData = false;
  private readonly sampler: Sampler;
  private readonly next: TracesConsumer;
  private readonly counter: Counter;
  private readonly labels: { processor: string; pipeline: string };
  private readonly bound = new Map<string, BoundCounter>();

  constructor(settings: CreateSettings, cfg: ProbabilisticSamplerConfig, next: TracesConsumer) {
    this.sampler = makeSampler(cfg);
    this.next = next;
    this.labels = { processor: settings.id, pipeline: settings.pipeline ?? '' };
    this.counter = settings.metrics.counter(
      SPANS_PROCESSED_METRIC,
      'Spans the probabilistic sampler kept (sampled="true") or dropped (sampled="false"), by where the randomness came from (policy).',
    );
  }

  /** Spans of the current batch by policy: [dropped, kept]; added to the counter once per batch. */
  private readonly tally: Record<Policy, [number, number]> = {
    trace_id_hash: [0, 0],
    trace_id_w3c: [0, 0],
    sampling_randomness: [0, 0],
    missing_randomness: [0, 0],
    trace_flags: [0, 0],
  };

  private flushTally(): void {
    for (const policy of Object.keys(this.tally) as Policy[]) {
      const t = this.tally[policy];
      for (const sampled of [0, 1] as const) {
        if (t[sampled] === 0) continue;
        const key = `${policy}/${sampled}`;
        let c = this.bound.get(key);
        if (c === undefined) {
          c = this.counter.bind({ ...this.labels, policy, sampled: String(sampled === 1) });
          this.bound.set(key, c);
        }
        c.add(t[sampled]);
        t[sampled] = 0;
      }
    }
  }

  consumeTraces(data: TracesData): Promise<void> {
    let out: TracesData | undefined;
    try {
      out = sampleTraces(this.sampler, data, (policy, sampled) => this.tally[policy][sampled ? 1 : 0]++);
    } catch (err) {
      // Broken framing (never for validated data): a rejected promise, not a throw; no span counted.
      for (const t of Object.values(this.tally)) t[0] = t[1] = 0;
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    this.flushTally();
    if (out === undefined) return Promise.resolve();
    return this.next.consumeTraces(out);
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Applies the sampler to a batch: the batch itself when every span is kept unchanged, a new batch
 * otherwise, undefined when no span is left. `counted` sees each span's outcome.
 */
export function sampleTraces(sampler: Sampler, data: TracesData, counted: (policy: Policy, sampled: boolean) => void): TracesData | undefined {
  const buf = data.bytes;
  const view = data.view;
  const r = new WireReader(buf);
  let edits: Map<number, Uint8Array[] | null> | undefined;
  let dropped = 0;
  for (let k = 0; k < view.spanCount; k++) {
    const start = view.spanStart(k);
    const end = view.spanEnd(k);
    // The span's tracestate (last occurrence wins, as in decoders) and flags.
    let tsField = -1;
    let tsStart = -1;
    let tsEnd = -1;
    let flags = 0;
    r.pos = start;
    r.end = end;
    while (r.pos < end) {
      const field = r.pos;
      const t = r.tag();
      if (t === TAG_SPAN_TRACE_STATE) {
        tsEnd = r.lenEnd();
        tsField = field;
        tsStart = r.pos;
        r.pos = tsEnd;
      } else if (t === TAG_SPAN_FLAGS) {
        const p = r.pos;
        flags = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
        r.pos = p + 4;
      } else {
        r.skip(t & 7);
      }
    }
    const tracestate = tsStart < tsEnd ? Buffer.from(buf.buffer, buf.byteOffset + tsStart, tsEnd - tsStart).toString('latin1') : '';
    const d = decide(sampler, buf, view.traceIdOffset(k), tracestate, flags);
    counted(d.policy, d.sampled);
    if (!d.sampled) {
      (edits ??= new Map()).set(start, null);
      dropped++;
    } else if (d.tracestate !== undefined) {
      const field = lenField(TAG_SPAN_TRACE_STATE, Buffer.from(d.tracestate, 'latin1'));
      const parts = tsField < 0 ? [buf.subarray(start, end), field] : [buf.subarray(start, tsField), field, buf.subarray(tsEnd, end)];
      (edits ??= new Map()).set(start, parts);
    }
  }
  if (edits === undefined) return data;
  if (dropped === view.spanCount) return undefined;
  return TracesData.trusted(editSpanPayloads(buf, edits)!, data.spanCount - dropped);
}
