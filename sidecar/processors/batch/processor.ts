// Batches by concatenating encoded requests (repeated fields concatenate on the wire), so
// batching costs one memcpy per span byte and no decode. Sends when `send_batch_size` spans are
// pending or `timeout` after the first pending span; a batch over `send_batch_max_size` spans or
// `send_batch_max_bytes` bytes is split at resource/scope/span boundaries. consumeTraces returns
// once the data is held, as in the collector.
//
// What this processor acknowledged it must hand on: a batch the next consumer refuses with a
// retryable error (an exporter's full sending queue) is held and offered again with backoff, and
// while anything is held new data is refused with a retryable error, so the receiver answers
// 503 / UNAVAILABLE and the client keeps its data. Only a permanent refusal, or the shutdown
// deadline passing while a batch is still held, drops data: counted and logged.
import type { CreateSettings, Host, Processor, TracesConsumer } from '../../component/component.ts';
import { isPermanent, RetryableError } from '../../component/errors.ts';
import { splitTraceRequest } from '../../pdata/split.ts';
import { TracesData } from '../../pdata/traces.ts';
import { OnceWarning } from '../../telemetry/logger.ts';
import type { BoundCounter } from '../../telemetry/metrics.ts';
import type { BatchProcessorConfig } from './config.ts';

/** First wait before a held batch is offered again; doubles up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 20;
const MAX_RETRY_MS = 1000;
/** What clients are told to wait (Retry-After) while the processor holds refused batches. */
const CLIENT_RETRY_AFTER_MS = 1000;

export class BatchProcessor implements Processor {
  readonly mutatesData = false;
  private readonly cfg: BatchProcessorConfig;
  private readonly next: TracesConsumer;
  private pending: TracesData[] = [];
  private pendingSpans = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Batches the next consumer refused for now: already acknowledged, so kept until it takes them. */
  private held: TracesData[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = FIRST_RETRY_MS;
  private readonly inflight = new Set<Promise<void>>();
  private readonly dropped: BoundCounter;
  private readonly sizeTrigger: BoundCounter;
  private readonly timeoutTrigger: BoundCounter;
  private readonly heldWarning: OnceWarning;
  private readonly dropWarning: OnceWarning;
  private host: Host | undefined;
  private stopping: Promise<void> | undefined;

  constructor(settings: CreateSettings, cfg: BatchProcessorConfig, next: TracesConsumer) {
    this.cfg = cfg;
    this.next = next;
    const labels = { processor: settings.id, pipeline: settings.pipeline ?? '' };
    this.dropped = settings.metrics
      .counter('tracebridge_processor_batch_dropped_spans_total', 'Spans of batches the next consumer refused for good, or still held at the shutdown deadline (lost).')
      .bind(labels);
    this.sizeTrigger = settings.metrics
      .counter('otelcol_processor_batch_batch_size_trigger_send_total', 'Number of times the batch was sent due to a size trigger.')
      .bind(labels);
    this.timeoutTrigger = settings.metrics
      .counter('otelcol_processor_batch_timeout_trigger_send_total', 'Number of times the batch was sent due to a timeout trigger.')
      .bind(labels);
    const log = settings.logger.child({ processor: settings.id });
    this.heldWarning = new OnceWarning(log, 'next consumer is refusing data (exporter queue full?); holding the batch and refusing new data with a retryable error');
    this.dropWarning = new OnceWarning(log, 'batch refused for good; spans dropped');
  }

  consumeTraces(data: TracesData): Promise<void> {
    if (data.spanCount === 0) return Promise.resolve();
    if (this.held.length > 0 || this.stopping !== undefined) {
      const why = this.stopping !== undefined ? 'shutting down' : 'the exporter is not taking data (its queue is full)';
      return Promise.reject(new RetryableError(`batch processor: ${why}; retry later`, { retryAfterMs: CLIENT_RETRY_AFTER_MS }));
    }
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
    const batch = TracesData.concat(this.pending);
    this.pending = [];
    this.pendingSpans = 0;
    for (const part of splitTraceRequest(batch.bytes, batch.spanCount, this.cfg.send_batch_max_size, this.cfg.send_batch_max_bytes)) {
      this.send(part.bytes === batch.bytes ? batch : TracesData.trusted(part.bytes, part.spans));
    }
  }

  private send(batch: TracesData): void {
    // Called from timers: a consumer that throws instead of rejecting must not take the process down.
    const p = Promise.resolve()
      .then(() => this.next.consumeTraces(batch))
      .then(
      () => {
        this.dropWarning.reset();
      },
      (err: unknown) => {
        if (isPermanent(err)) {
          this.dropped.add(batch.spanCount);
          this.dropWarning.warn({ err: (err as Error).message, spans: batch.spanCount });
          return;
        }
        this.hold(batch, err);
      },
    );
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private hold(batch: TracesData, err: unknown): void {
    this.held.push(batch);
    this.heldWarning.warn({ err: err instanceof Error ? err.message : String(err), spans: batch.spanCount });
    if (this.retryTimer !== undefined || this.stopping !== undefined) return;
    const hint = err instanceof RetryableError && err.retryAfterMs !== undefined ? Math.min(err.retryAfterMs, MAX_RETRY_MS) : this.retryMs;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
      this.offerHeld();
    }, Math.min(hint, this.retryMs));
    this.retryTimer.unref();
  }

  /** Offers every held batch again, oldest first, and ends the episode once none is held. */
  private offerHeld(): void {
    this.resendHeld();
    void Promise.all([...this.inflight]).then(() => {
      if (this.held.length === 0) {
        this.retryMs = FIRST_RETRY_MS;
        this.heldWarning.reset();
      }
    });
  }

  /** Takes every held batch out and sends it again; those refused again are held again. */
  private resendHeld(): void {
    const batches = this.held;
    this.held = [];
    for (const b of batches) this.send(b);
  }

  start(host: Host): Promise<void> {
    this.host = host;
    return Promise.resolve();
  }

  /**
   * Sends what is pending, then keeps offering held batches until the next consumer takes them or
   * the service's drain deadline passes (what is still held then is dropped and counted). Safe to
   * call twice.
   */
  shutdown(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<void> {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.flush();
    const deadline = this.host?.drainDeadline ?? Date.now() + 5000;
    for (;;) {
      while (this.inflight.size > 0) await Promise.all([...this.inflight]);
      if (this.held.length === 0) return;
      if (Date.now() + this.retryMs > deadline) break;
      await new Promise((r) => setTimeout(r, this.retryMs));
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
      this.resendHeld();
    }
    const spans = this.held.reduce((n, b) => n + b.spanCount, 0);
    this.held = [];
    this.dropped.add(spans);
    this.dropWarning.warn({ err: 'shutdown deadline passed while the next consumer was still refusing data', spans });
  }
}
