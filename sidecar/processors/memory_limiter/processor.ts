// Measures the process's memory every check_interval (its private resident memory: see
// privateMemoryMeasure); while it is above the soft limit, consumeTraces refuses with
// RetryableError, so receivers answer UNAVAILABLE / 503 with Retry-After and senders keep the data.
// The collector measures its Go heap; the V8 heap alone would miss the ArrayBuffers that hold spans.
// Above the soft limit it forces a garbage collection (at most every
// min_gc_interval_when_soft_limited; above the hard limit, min_gc_interval_when_hard_limited) and
// measures again, as the collector does: what stays above the limit is live data, and the
// refusal lets queues drain and memory fall. Unlike Go's, V8's collector does not run while the
// process is quiet, so the memory of batches delivered after a burst would wait for the next
// interval (up to 10 s of refusals): a collection is also due once sending queues have let go of
// a quarter of the spike allowance since the last full collection (V8's own or forced), or of
// anything at all and hold nothing more (runtime/released-memory.ts). Under load V8's own full
// collections come every second or so and reset that count, so this adds none there.
import { getHeapStatistics } from 'node:v8';
import type { CreateSettings, Processor, TracesConsumer } from '../../component/component.ts';
import { RetryableError } from '../../component/errors.ts';
import type { TracesData } from '../../pdata/traces.ts';
import type { BoundCounter } from '../../telemetry/metrics.ts';
import type { MemoryLimiterConfig } from './config.ts';
import type { ReleasedMemory } from '../../runtime/released-memory.ts';
import { MIB, type AvailableMemory, type Limits, type MemoryMeasure } from './memory.ts';

export type CollectGarbage = () => void;

/**
 * V8 frees the memory of collected ArrayBuffers on a background thread after gc() returns (under
 * load, not yet in ~40% of tries at once; always 20 ms later): the measure after a forced
 * collection waits this long.
 */
const GC_SETTLE_MS = 50;

/** Memory for data above the idle sidecar's: 10k realistic spans/s holds ~30 MiB more than idle. */
const WORKING_ROOM = 32 * MIB;

export class MemoryLimiterProcessor implements Processor {
  readonly mutatesData = false;
  private readonly next: TracesConsumer;
  private readonly cfg: MemoryLimiterConfig;
  private readonly limits: Limits;
  private readonly measure: MemoryMeasure;
  private readonly available: AvailableMemory | undefined;
  private readonly collectGarbage: CollectGarbage;
  private lastGc = 0;
  private readonly released: ReleasedMemory;
  private afterGc: NodeJS.Timeout | undefined;
  private readonly accepted: BoundCounter;
  private readonly refused: BoundCounter;
  private readonly settings: CreateSettings;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private limited = false;
  private usage = 0;
  /**
   * A refusal episode: from the first refusal until memory has stayed below the soft limit for a
   * check interval. Memory hovering at the limit under sustained overload goes above and below it
   * from one check to the next; one episode logs one warning and one line when it ends.
   */
  private episode: { since: number; refusedSpans: number; belowSince: number | undefined; freedByGc: number } | undefined;
  /** Bytes passed on since the last check, and the amount that triggers a check at once. */
  private acceptedBytes = 0;
  private readonly checkEveryBytes: number;

  constructor(
    settings: CreateSettings,
    cfg: MemoryLimiterConfig,
    next: TracesConsumer,
    limits: Limits,
    measure: MemoryMeasure,
    collectGarbage: CollectGarbage,
    released: ReleasedMemory,
    available?: AvailableMemory,
  ) {
    this.released = released;
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
    this.checkEveryBytes = Math.max(MIB, (limits.hard - limits.soft) / 4);
    const labels = { processor: settings.id, pipeline: settings.pipeline ?? '' };
    this.accepted = settings.metrics.counter('otelcol_processor_accepted_spans_total', 'Number of spans passed to the next component.').bind(labels);
    this.refused = settings.metrics
      .counter('otelcol_processor_refused_spans_total', 'Number of spans refused (memory_limiter: memory above the soft limit).')
      .bind(labels);
    settings.metrics
      .gauge('tracebridge_memory_limiter_usage_bytes', 'Memory measured at the last check: measure="private" is RssAnon + RssShmem, measure="rss" is RSS (where the kernel does not split it).')
      .collect({ ...labels, measure: measure.name }, () => this.usage);
    settings.metrics.gauge('tracebridge_memory_limiter_soft_limit_bytes', 'Memory above which data is refused.').collect(labels, () => this.limits.soft);
    settings.metrics.gauge('tracebridge_memory_limiter_refusing', '1 while data is refused (memory above the soft limit at the last measure), else 0.').collect(labels, () => (this.limited ? 1 : 0));
  }

  get isLimited(): boolean {
    return this.limited;
  }

  /**
   * Measures and updates the state. Above the soft limit, forces a garbage collection when one is
   * due (min_gc_interval_when_soft_limited / _hard_limited) and measures again once the memory it
   * freed has been returned.
   */
  check(): void {
    if (this.stopped) return;
    this.acceptedBytes = 0;
    const usage = this.measure.read();
    if (usage < this.limits.soft || this.afterGc !== undefined || !this.gcDue(usage)) {
      this.update(usage);
      return;
    }
    const released = this.released.sinceCollection();
    const started = performance.now();
    this.collectGarbage();
    this.lastGc = Date.now();
    this.released.collected();
    const after = this.measure.read();
    this.settings.logger.debug(
      { before_mib: mib(usage), after_mib: mib(after), took_ms: Math.round((performance.now() - started) * 10) / 10, released_since_collection_mib: mib(released) },
      'memory above the soft limit: forced a garbage collection',
    );
    if (this.episode !== undefined) this.episode.freedByGc += Math.max(0, usage - after);
    if (after < this.limits.soft) {
      // Garbage, collected: nothing refused, nothing to report.
      this.update(after);
      return;
    }
    // V8 returns the memory of collected ArrayBuffers on a background thread after gc() returns:
    // refuse meanwhile, and only a measure once it has (GC_SETTLE_MS later) opens an episode.
    this.usage = after;
    this.limited = true;
    this.afterGc = setTimeout(() => {
      this.afterGc = undefined;
      if (this.stopped) return;
      const settled = this.measure.read();
      if (this.episode !== undefined) this.episode.freedByGc += Math.max(0, after - settled);
      this.update(settled);
    }, GC_SETTLE_MS);
    this.afterGc.unref();
  }

  private gcDue(usage: number): boolean {
    const minGap = usage >= this.limits.hard ? this.cfg.min_gc_interval_when_hard_limited : this.cfg.min_gc_interval_when_soft_limited;
    if (Date.now() - this.lastGc >= minGap) return true;
    const released = this.released.sinceCollection();
    return released >= this.checkEveryBytes || (released > 0 && this.released.held() <= 0);
  }

  private update(usage: number): void {
    this.usage = usage;
    this.limited = usage >= this.limits.soft;
    const now = Date.now();
    if (this.limited) {
      if (this.episode === undefined) {
        this.episode = { since: now, refusedSpans: 0, belowSince: undefined, freedByGc: 0 };
        const rss = process.memoryUsage.rss();
        this.settings.logger.warn(
          {
            measures: this.measure.name,
            usage_mib: mib(usage),
            soft_limit_mib: mib(this.limits.soft),
            hard_limit_mib: mib(this.limits.hard),
            rss_mib: mib(rss),
            file_backed_mib: this.measure.name === 'private' ? mib(rss - usage) : undefined,
            heap_used_mib: mib(getHeapStatistics().used_heap_size),
          },
          'memory above the soft limit: refusing data with a retryable error',
        );
      }
      this.episode.belowSince = undefined;
      return;
    }
    if (this.episode === undefined) return;
    this.episode.belowSince ??= now;
    // Data is taken again from the first measure below; the episode's line waits until a later
    // measure, at least 0.9 of a check interval on (timers fire late, never early), still finds it
    // below: one or two timer checks.
    if (now - this.episode.belowSince < this.cfg.check_interval * 0.9) return;
    this.settings.logger.info(
      {
        measures: this.measure.name,
        usage_mib: mib(usage),
        soft_limit_mib: mib(this.limits.soft),
        refused_for_s: Math.round((this.episode.belowSince - this.episode.since) / 100) / 10,
        refused_spans: this.episode.refusedSpans,
        freed_by_forced_gc_mib: this.episode.freedByGc > 0 ? mib(this.episode.freedByGc) : undefined,
      },
      'memory below the soft limit again: accepting data',
    );
    this.episode = undefined;
  }

  consumeTraces(data: TracesData): Promise<void> {
    if (!this.limited && (this.acceptedBytes += data.byteLength) >= this.checkEveryBytes) this.check();
    if (this.limited) {
      this.refused.add(data.spanCount);
      if (this.episode !== undefined) this.episode.refusedSpans += data.spanCount;
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
    this.adviseOnSmallLimits();
    return Promise.resolve();
  }

  /**
   * Says so at start when the soft limit leaves less than WORKING_ROOM above what the sidecar holds
   * idle, with the smallest limit that would: a limit that small refuses most data, or all of it.
   */
  private adviseOnSmallLimits(): void {
    const needed = this.usage + WORKING_ROOM;
    if (this.limits.soft >= needed) return;
    const fields: Record<string, unknown> = { usage_mib: mib(this.usage), soft_limit_mib: mib(this.limits.soft), working_room_mib: mib(WORKING_ROOM) };
    if (this.cfg.limit_mib === 0) {
      // soft = (container limit - reserved) * (limit - spike) percentage, solved for the container limit.
      const spike = this.cfg.spike_limit_percentage > 0 ? this.cfg.spike_limit_percentage : this.cfg.limit_percentage / 5;
      fields.smallest_container_limit_mib = Math.ceil((needed / ((this.cfg.limit_percentage - spike) / 100) + this.measure.reserved) / MIB);
    } else {
      // soft = limit_mib - spike, where the spike is 20% of limit_mib unless spike_limit_mib is set.
      fields.smallest_limit_mib = Math.ceil((this.cfg.spike_limit_mib > 0 ? needed + this.cfg.spike_limit_mib * MIB : needed / 0.8) / MIB);
    }
    const refusingAll = this.limits.soft <= this.usage;
    const message = refusingAll ? 'memory limit below what the sidecar holds idle: all data will be refused; raise it' : 'memory limit leaves little room for data above what the sidecar holds idle: most data will be refused under load; raise it';
    if (refusingAll) this.settings.logger.error(fields, message);
    else this.settings.logger.warn(fields, message);
  }

  shutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.afterGc !== undefined) clearTimeout(this.afterGc);
    this.afterGc = undefined;
    this.timer = undefined;
    return Promise.resolve();
  }
}

function mib(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}
