// The `tracecontext` processor on encoded OTLP bytes (no decode; unknown fields survive).
// keep: a pass-through that does not even look at the bytes. rewrite: trace IDs that legacy X-Ray
// ingestion would reject relative to the span's own start are rewritten in place (fixed 16 bytes),
// links to the span's own original trace follow, and the original ID is appended as a span
// attribute (the only length-changing edit, done in one re-framing pass per batch). drop: such
// spans are removed. Every rewrite and drop is counted. Spans, their trace IDs, start times and
// link trace IDs come from the batch's view (built when the receiver validated the request).
import type { CreateSettings, Processor, TracesConsumer } from '../../component/component.ts';
import { TAG_SPAN_ATTRIBUTES } from '../../pdata/fields.ts';
import { TracesData } from '../../pdata/traces.ts';
import { appendToSpans, encodeStringKeyValue, filterSpans, lenField } from '../../pdata/splice.ts';
import {
  isUsableStartTime,
  isValidTraceId,
  isXRayValidTraceId,
  readUnixNanosAsEpochSeconds,
  rewriteTraceIdAtReceiveTime,
  rewriteTraceIdIfInvalid,
  traceIdToHex,
  traceIdsEqual,
} from '../../tracecontext/index.ts';
import type { BoundCounter } from '../../telemetry/metrics.ts';
import type { TracecontextConfig } from './config.ts';

export class TracecontextProcessor implements Processor {
  readonly mutatesData: boolean;
  private readonly cfg: TracecontextConfig;
  private readonly next: TracesConsumer;
  private readonly windowSeconds: number;
  private readonly rewritten: BoundCounter;
  private readonly nondeterministic: BoundCounter;
  private readonly dropped: BoundCounter;
  private readonly linksRewritten: BoundCounter;
  /** Scratch copy of the ID being rewritten (one per processor: consumeTraces is synchronous up to the hand-off). */
  private readonly original = new Uint8Array(16);

  constructor(settings: CreateSettings, cfg: TracecontextConfig, next: TracesConsumer) {
    this.cfg = cfg;
    this.next = next;
    this.windowSeconds = cfg.rewrite_window / 1000;
    // Only rewrite edits bytes in place; drop builds new bytes.
    this.mutatesData = cfg.on_invalid === 'rewrite';
    const labels = { processor: settings.id, pipeline: settings.pipeline ?? '' };
    const m = settings.metrics;
    this.rewritten = m.counter('tracebridge_tracecontext_rewritten_spans_total', 'Spans whose trace ID was rewritten to a legacy-X-Ray-valid one.').bind(labels);
    this.nondeterministic = m
      .counter('tracebridge_tracecontext_nondeterministic_rewrites_total', 'Rewrites anchored at the receive time because the span had no usable start time.')
      .bind(labels);
    this.dropped = m.counter('tracebridge_tracecontext_dropped_spans_total', 'Spans dropped by on_invalid: drop.').bind(labels);
    this.linksRewritten = m.counter('tracebridge_tracecontext_rewritten_links_total', "Links to the span's own original trace rewritten with it.").bind(labels);
  }

  consumeTraces(data: TracesData): Promise<void> {
    switch (this.cfg.on_invalid) {
      case 'keep':
        return this.next.consumeTraces(data);
      case 'drop':
        return this.next.consumeTraces(this.drop(data));
      case 'rewrite':
        return this.next.consumeTraces(this.rewrite(data));
    }
  }

  private drop(data: TracesData): TracesData {
    const buf = data.bytes;
    const view = data.view;
    const nowSeconds = Math.floor(Date.now() / 1000);
    const kept = filterSpans(buf, view, (k) => {
      const off = view.traceIdOffset(k);
      if (off < 0 || !isValidTraceId(buf, off)) return true;
      const startOff = view.startTimeOffset(k);
      const start = startOff >= 0 ? readUnixNanosAsEpochSeconds(buf, startOff) : 0;
      return !isXRayValidTraceId(buf, isUsableStartTime(start) ? start : nowSeconds, off);
    });
    if (kept === undefined) return data;
    this.dropped.add(kept.dropped);
    return TracesData.trusted(kept.bytes, data.spanCount - kept.dropped);
  }

  private rewrite(data: TracesData): TracesData {
    const buf = data.bytes;
    const attr = this.cfg.original_id_attribute;
    const appends = attr === '' ? undefined : new Map<number, Uint8Array>();
    const original = this.original;
    let receiveSeconds = 0;
    const view = data.view;
    for (let k = 0; k < view.spanCount; k++) {
      const off = view.traceIdOffset(k);
      if (off < 0) continue;
      const startOff = view.startTimeOffset(k);
      const start = startOff >= 0 ? readUnixNanosAsEpochSeconds(buf, startOff) : 0;
      original.set(buf.subarray(off, off + 16));
      let outcome = rewriteTraceIdIfInvalid(buf, off, start, this.windowSeconds);
      if (outcome === 'no-start-time') {
        receiveSeconds ||= Math.floor(Date.now() / 1000);
        outcome = rewriteTraceIdAtReceiveTime(buf, off, receiveSeconds, this.windowSeconds);
        if (outcome === 'rewritten') this.nondeterministic.add(1);
      }
      if (outcome !== 'rewritten') continue;
      this.rewritten.add(1);
      for (let n = 0; n < view.linkCount(k); n++) {
        const linkOff = view.linkTraceIdOffset(k, n);
        if (traceIdsEqual(buf, linkOff, original, 0)) {
          buf.copyWithin(linkOff, off, off + 4);
          this.linksRewritten.add(1);
        }
      }
      if (appends !== undefined) appends.set(view.spanStart(k), lenField(TAG_SPAN_ATTRIBUTES, encodeStringKeyValue(attr, traceIdToHex(original))));
    }
    if (appends === undefined || appends.size === 0) return data;
    return TracesData.trusted(appendToSpans(buf, appends), data.spanCount);
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
