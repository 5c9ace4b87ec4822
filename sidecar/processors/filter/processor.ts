// The `filter` processor: drops spans for which any `traces.span` condition is true and, in the
// spans it keeps, span events for which any `traces.spanevent` condition is true (the collector's
// filterprocessor; a span whose events are all dropped is kept).
//
// Cost on the hot path: the request is never decoded. Each resource and scope is read once for
// the attributes the conditions name; each span is read in one pass that locates the fields the
// conditions use (attribute values are located by key, not decoded; `==` against a string
// literal compares bytes in place). Only a batch that loses something is re-framed; everything
// kept is copied byte for byte, unknown fields included.
import type { CreateSettings, Processor, TracesConsumer } from '../../component/component.ts';
import { PermanentError } from '../../component/errors.ts';
import { bufferView } from '../../pdata/buffer-view.ts';
import { TAG_SPAN_EVENTS } from '../../pdata/fields.ts';
import { editSpanPayloads } from '../../pdata/splice.ts';
import { TracesData } from '../../pdata/traces.ts';
import { WireReader } from '../../pdata/wire.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { BoundCounter } from '../../telemetry/metrics.ts';
import type { ErrorMode, FilterConfig } from './config.ts';
import { compileCondition, type Condition } from './ottl/compile.ts';
import { EvalContext, newConditionKeys } from './ottl/records.ts';
import { OttlRuntimeError } from './ottl/values.ts';

/** At most one log line per this interval for conditions failing under error_mode: ignore. */
const ERROR_LOG_INTERVAL_MS = 10_000;

interface Compiled {
  condition: Condition;
  /** YAML path under the processor, for messages: traces.span[2]. */
  where: string;
}

export class FilterProcessor implements Processor {
  readonly mutatesData = false;
  private readonly next: TracesConsumer;
  private readonly id: string;
  private readonly logger: Logger;
  private readonly errorMode: ErrorMode;
  private readonly spanConditions: Compiled[];
  private readonly eventConditions: Compiled[];
  private readonly ctx: EvalContext;
  private readonly readResources: boolean;
  private readonly readScopes: boolean;
  private readonly spansFiltered: BoundCounter;
  private readonly eventsFiltered: BoundCounter;
  private readonly conditionErrors: BoundCounter;
  private lastErrorLog = -Infinity;
  private errorsSinceLog = 0;

  constructor(settings: CreateSettings, cfg: FilterConfig, next: TracesConsumer) {
    this.next = next;
    this.id = settings.id;
    this.logger = settings.logger;
    this.errorMode = cfg.error_mode;
    const keys = newConditionKeys();
    // Compiled again (the config was checked by compiling too): conditions share one key table
    // per element kind, so a span is read once for all of them.
    this.spanConditions = cfg.traces.span.map((text, i) => ({ condition: compileCondition(text, 'span', keys), where: `traces.span[${i}]` }));
    this.eventConditions = cfg.traces.spanevent.map((text, i) => ({ condition: compileCondition(text, 'spanevent', keys), where: `traces.spanevent[${i}]` }));
    this.ctx = new EvalContext(keys);
    // A resource or scope no condition reads is skipped.
    this.readResources = keys.resource.size > 0;
    this.readScopes = keys.scope.size > 0 || keys.scopeFields;
    const labels = { processor: settings.id, pipeline: settings.pipeline ?? '' };
    const m = settings.metrics;
    this.spansFiltered = m.counter('otelcol_processor_filter_spans_filtered_total', 'Number of spans dropped by the filter processor.').bind(labels);
    this.eventsFiltered = m.counter('tracebridge_processor_filter_span_events_filtered_total', 'Number of span events dropped by the filter processor.').bind(labels);
    this.conditionErrors = m
      .counter('tracebridge_processor_filter_condition_errors_total', 'Conditions that failed while being evaluated (handled per error_mode).')
      .bind(labels);
  }

  consumeTraces(data: TracesData): Promise<void> {
    if (this.spanConditions.length === 0 && this.eventConditions.length === 0) return this.next.consumeTraces(data);
    let edits: Map<number, Uint8Array[] | null> | undefined;
    let droppedSpans = 0;
    let droppedEvents = 0;
    try {
      const buf = bufferView(data.bytes);
      const view = data.view;
      const c = this.ctx;
      c.buf = buf;
      for (let i = 0; i < view.resourceSpansCount; i++) {
        if (this.readResources) c.resource.read(buf, view.resourceStart(i), view.resourceEnd(i));
        const firstScope = view.firstScopeSpans(i);
        for (let j = firstScope; j < firstScope + view.scopeSpansIn(i); j++) {
          if (this.readScopes) c.scope.read(buf, view.scopeStart(j), view.scopeEnd(j));
          const firstSpan = view.firstSpan(j);
          for (let k = firstSpan; k < firstSpan + view.spansIn(j); k++) {
            const start = view.spanStart(k);
            const end = view.spanEnd(k);
            c.span.read(buf, start, end);
            if (this.matches(this.spanConditions, c)) {
              (edits ??= new Map()).set(start, null);
              droppedSpans++;
              continue;
            }
            if (this.eventConditions.length === 0) continue;
            const kept = this.withoutEvents(buf, start, end, c);
            if (kept !== undefined) {
              (edits ??= new Map()).set(start, kept.parts);
              droppedEvents += kept.dropped;
            }
          }
        }
      }
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.ctx.buf = EMPTY;
    }
    if (edits === undefined) return this.next.consumeTraces(data);
    this.spansFiltered.add(droppedSpans);
    this.eventsFiltered.add(droppedEvents);
    const left = data.spanCount - droppedSpans;
    if (left === 0) return Promise.resolve();
    return this.next.consumeTraces(TracesData.trusted(editSpanPayloads(data.bytes, edits)!, left));
  }

  /** The span's payload without the events a spanevent condition matches, or undefined when none does. */
  private withoutEvents(buf: Uint8Array, start: number, end: number, c: EvalContext): { parts: Uint8Array[]; dropped: number } | undefined {
    let parts: Uint8Array[] | undefined;
    let copied = start;
    let dropped = 0;
    const r = new WireReader(buf, start, end);
    while (r.pos < end) {
      const fieldStart = r.pos;
      const tag = r.tag();
      if (tag !== TAG_SPAN_EVENTS) {
        r.skip(tag & 7, tag >>> 3);
        continue;
      }
      const e = r.lenEnd();
      c.event.read(buf, r.pos, e);
      r.pos = e;
      if (!this.matches(this.eventConditions, c)) continue;
      (parts ??= []).push(buf.subarray(copied, fieldStart));
      copied = e;
      dropped++;
    }
    if (parts === undefined) return undefined;
    parts.push(buf.subarray(copied, end));
    return { parts, dropped };
  }

  /** Any condition true; a condition that fails is handled per error_mode. */
  private matches(conditions: readonly Compiled[], c: EvalContext): boolean {
    for (const cond of conditions) {
      try {
        if (cond.condition.evaluate(c)) return true;
      } catch (err) {
        if (!(err instanceof OttlRuntimeError)) throw err;
        this.conditionFailed(cond, err);
      }
    }
    return false;
  }

  private conditionFailed(cond: Compiled, err: OttlRuntimeError): void {
    this.conditionErrors.add(1);
    if (this.errorMode === 'propagate') {
      // The same data fails the same way every time: permanent, so clients do not retry it.
      throw new PermanentError(
        `processor ${this.id}: condition ${cond.where} ${JSON.stringify(cond.condition.text)} failed: ${err.message} (error_mode: propagate refuses the batch)`,
      );
    }
    if (this.errorMode === 'silent') return;
    this.errorsSinceLog++;
    const now = Date.now();
    if (now - this.lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
    this.logger.warn(
      { processor: this.id, condition: cond.condition.text, where: cond.where, error: err.message, failures: this.errorsSinceLog },
      'filter condition failed; treated as false (error_mode: ignore)',
    );
    this.lastErrorLog = now;
    this.errorsSinceLog = 0;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const EMPTY = Buffer.alloc(0);
