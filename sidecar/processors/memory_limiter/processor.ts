// Measures the process's memory every check_interval (its private resident memory: see
// privateMemoryMeasure); while it is above the soft limit, consumeTraces refuses with
// RetryableError, so receivers answer UNAVAILABLE / 503 with Retry-After and senders keep the data.
// The collector measures its Go heap; the V8 heap alone would miss the ArrayBuffers that hold spans.
// Above the soft limit it forces a garbage collection (at most every
// min_gc_interval_when_soft_limited; above the hard limit, min_gc_interval_when_hard_limited) and
// measures again, as the collector does: what stays above the limit is live data, and the
// refusal lets queues drain and memory fall.
import { getHeapStatistics } from 'node:v8';
import type { CreateSettings, Processor, TracesConsumer } from '../../component/component.ts';
import { RetryableError } from '../../component/errors.ts';
import type { TracesData } from '../../pdata/traces.ts';
import { OnceWarning } from '../../telemetry/logger.ts';
import type { BoundCounter } from '../../telemetry/metrics.ts';
import type { MemoryLimiterConfig } from './config.ts';
import type { AvailableMemory, Limits, MemoryMeasure } from './memory.ts';

export type CollectGarbage = () => void;

export class MemoryLimiterProcessor implements Processor {
  readonly mutatesData = false;
  private readonly next: TracesConsumer;
  private readonly cfg: MemoryLimiterConfig;
  private readonly limits: Limits;
  private readonly measure: MemoryMeasure;
  private readonly available: AvailableMemory | undefined;
  private readonly collectGarbage: CollectGarbage;
  private lastGc = 0;
  private readonly accepted: BoundCounter;
  private readonly refused: BoundCounter;
  private readonly warning: OnceWarning;
  private readonly settings: CreateSettings;
  private timer: NodeJS.Timeout | undefined;
  private limited = false;
  private usage = 0;
  /** When data was first refused, and spans refused since: for the log line when it is taken again. */
  private limitedSince = 0;
  private refusedSince = 0;
  /** Bytes passed on since the last check, and the amount that triggers a check at once. */
  private acceptedBytes = 0;
  private readonly checkEveryBytes: number;

  constructor(settings: CreateSettings, cfg: MemoryLimiterConfig, next: TracesConsumer, limits: Limits, measure: MemoryMeasure, collectGarbage: CollectGarbage, available?: AvailableMemory) {
    this.settings = settings;
    this.cfg = cfg;
    this.next = next;
    this.limits = limits;
    this.measure = measure;
    this.available = available;
    this.collectGarbage = collectGarbage;
    // A quarter of the spike allowance, so that a burst faster than check_interval expects is
    // measured well before it has used the allowance (each accepted byte is held at least twice
    // for a while: the received request, and the batch or queue copy).
    this.checkEveryBytes = Math.max(1024 * 1024, (limits.hard - limits.soft) / 4);
    const labels = { processor: settings.id, pipeline: settings.pipeline ?? '' };
    this.accepted = settings.metrics.counter('otelcol_processor_accepted_spans_total', 'Number of spans passed to the next component.').bind(labels);
    this.refused = settings.metrics
      .counter('otelcol_processor_refused_spans_total', 'Number of spans refused (memory_limiter: memory above the soft limit).')
      .bind(labels);
    settings.metrics
      .gauge('tracebridge_memory_limiter_usage_bytes', 'Memory measured at the last check: measure="private" is RssAnon + RssShmem, measure="rss" is RSS (where the kernel does not split it).')
      .collect({ ...labels, measure: measure.name }, () => this.usage);
    settings.metrics.gauge('tracebridge_memory_limiter_soft_limit_bytes', 'Memory above which data is refused.').collect(labels, () => this.limits.soft);
    this.warning = new OnceWarning(settings.logger, 'memory above the soft limit: refusing data with a retryable error');
  }

  get isLimited(): boolean {
    return this.limited;
  }

  /** Measures once and updates the state. */
  check(): void {
    this.acceptedBytes = 0;
    this.usage = this.measure.read();
    let freedByGc: number | undefined;
    if (this.usage >= this.limits.soft) {
      const minGap = this.usage >= this.limits.hard ? this.cfg.min_gc_interval_when_hard_limited : this.cfg.min_gc_interval_when_soft_limited;
      const now = Date.now();
      if (now - this.lastGc >= minGap) {
        const before = this.usage;
        this.collectGarbage();
        this.lastGc = now;
        this.usage = this.measure.read();
        freedByGc = before - this.usage;
        this.settings.logger.debug({ before_mib: mib(before), after_mib: mib(this.usage) }, 'memory above the soft limit: forced a garbage collection');
      }
    }
    const wasLimited = this.limited;
    this.limited = this.usage >= this.limits.soft;
    if (this.limited) {
      if (!wasLimited) {
        this.limitedSince = Date.now();
        this.refusedSince = 0;
      }
      const rss = process.memoryUsage.rss();
      this.warning.warn({
        measures: this.measure.name,
        usage_mib: mib(this.usage),
        soft_limit_mib: mib(this.limits.soft),
        hard_limit_mib: mib(this.limits.hard),
        rss_mib: mib(rss),
        file_backed_mib: this.measure.name === 'private' ? mib(rss - this.usage) : undefined,
        heap_used_mib: mib(getHeapStatistics().used_heap_size),
      });
    } else if (wasLimited) {
      this.warning.reset();
      this.settings.logger.info(
        {
          measures: this.measure.name,
          usage_mib: mib(this.usage),
          soft_limit_mib: mib(this.limits.soft),
          refused_for_s: Math.round((Date.now() - this.limitedSince) / 100) / 10,
          refused_spans: this.refusedSince,
          freed_by_forced_gc_mib: freedByGc === undefined ? undefined : mib(freedByGc),
        },
        'memory below the soft limit again: accepting data',
      );
    }
  }

  consumeTraces(data: TracesData): Promise<void> {
    if (!this.limited && (this.acceptedBytes += data.byteLength) >= this.checkEveryBytes) this.check();
    if (this.limited) {
      this.refused.add(data.spanCount);
      this.refusedSince += data.spanCount;
      return Promise.reject(new RetryableError('data refused due to high memory usage', { retryAfterMs: Math.max(1000, this.cfg.check_interval) }));
    }
    this.accepted.add(data.spanCount);
    return this.next.consumeTraces(data);
  }

  start(): Promise<void> {
    this.check();
    this.timer = setInterval(() => this.check(), this.cfg.check_interval);
    this.timer.unref();
    this.settings.logger.info(
      {
        measures: this.measure.name,
        usage_mib: mib(this.usage),
        soft_limit_mib: mib(this.limits.soft),
        hard_limit_mib: mib(this.limits.hard),
        container_limit_mib: this.available === undefined ? undefined : mib(this.available.bytes),
        container_limit_from: this.available === undefined ? undefined : (this.available.file ?? 'total memory (no cgroup limit)'),
        reserved_file_backed_mib: this.cfg.limit_mib === 0 ? mib(this.measure.reserved) : undefined,
        heap_limit_mib: mib(getHeapStatistics().heap_size_limit),
        check_interval_ms: this.cfg.check_interval,
      },
      'memory limiter started',
    );
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    return Promise.resolve();
  }
}

function mib(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}
