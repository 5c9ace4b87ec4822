// Batches by concatenating encoded requests (repeated fields concatenate on the wire), so
// batching costs one memcpy per span byte and no decode. Sends when `send_batch_size` spans are
// pending or `timeout` after the first pending span; consumeTraces returns once the data is held,
// as in the collector. A failed send is counted and logged once per episode: what follows the
// batch processor (an exporter's queue) owns retries.
import type { CreateSettings, Processor, TracesConsumer } from '../../component/component.ts';
import { TracesData } from '../../pdata/traces.ts';
import { OnceWarning } from '../../telemetry/logger.ts';
import type { BoundCounter } from '../../telemetry/metrics.ts';
import type { BatchProcessorConfig } from './config.ts';

export class BatchProcessor implements Processor {
  readonly mutatesData = false;
  private readonly cfg: BatchProcessorConfig;
  private readonly next: TracesConsumer;
  private pending: TracesData[] = [];
  private pendingSpans = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inflight = new Set<Promise<void>>();
  private readonly dropped: BoundCounter;
  private readonly sizeTrigger: BoundCounter;
  private readonly timeoutTrigger: BoundCounter;
  private readonly failWarning: OnceWarning;
  private stopping: Promise<void> | undefined;

  constructor(settings: CreateSettings, cfg: BatchProcessorConfig, next: TracesConsumer) {
    this.cfg = cfg;
    this.next = next;
    const labels = { processor: settings.id, pipeline: settings.pipeline ?? '' };
    this.dropped = settings.metrics
      .counter('tracebridge_processor_batch_dropped_spans_total', 'Spans of batches the next consumer refused (lost).')
      .bind(labels);
    this.sizeTrigger = settings.metrics
      .counter('otelcol_processor_batch_batch_size_trigger_send_total', 'Number of times the batch was sent due to a size trigger.')
      .bind(labels);
    this.timeoutTrigger = settings.metrics
      .counter('otelcol_processor_batch_timeout_trigger_send_total', 'Number of times the batch was sent due to a timeout trigger.')
      .bind(labels);
    this.failWarning = new OnceWarning(settings.logger.child({ processor: settings.id }), 'batch send failed; spans dropped');
  }

  consumeTraces(data: TracesData): Promise<void> {
    if (data.spanCount === 0) return Promise.resolve();
    this.pending.push(data);
    this.pendingSpans += data.spanCount;
    if (this.pendingSpans >= this.cfg.send_batch_size) {
      this.sizeTrigger.add(1);
      this.flush();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.timeoutTrigger.add(1);
        this.flush();
      }, this.cfg.timeout);
      this.timer.unref();
    }
    return Promise.resolve();
  }

  private flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    for (const batch of this.split(this.pending)) this.send(batch);
    this.pending = [];
    this.pendingSpans = 0;
  }

  /** Groups pending requests into batches of at most send_batch_max_size spans (0 = one batch). */
  private split(parts: TracesData[]): TracesData[] {
    const max = this.cfg.send_batch_max_size;
    if (max === 0) return [TracesData.concat(parts)];
    const out: TracesData[] = [];
    let group: TracesData[] = [];
    let spans = 0;
    for (const p of parts) {
      if (group.length > 0 && spans + p.spanCount > max) {
        out.push(TracesData.concat(group));
        group = [];
        spans = 0;
      }
      group.push(p);
      spans += p.spanCount;
    }
    if (group.length > 0) out.push(TracesData.concat(group));
    return out;
  }

  private send(batch: TracesData): void {
    const p = this.next.consumeTraces(batch).then(
      () => this.failWarning.reset(),
      (err: unknown) => {
        this.dropped.add(batch.spanCount);
        this.failWarning.warn({ err: (err as Error).message, spans: batch.spanCount });
      },
    );
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Sends what is pending and waits for every send in flight. Safe to call twice. */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      this.flush();
      await Promise.all([...this.inflight]);
    })();
    return this.stopping;
  }
}
