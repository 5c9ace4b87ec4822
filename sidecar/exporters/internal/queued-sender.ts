// The send machinery every exporter shares (the collector's exporterhelper): a sending queue
// bounded in requests and bytes, `num_consumers` concurrent senders, per-attempt timeout, retries
// with exponential backoff and jitter honouring server hints, permanent errors dropped at once,
// counters, and a drain on shutdown bounded by the service's deadline.
//
// A full queue refuses with RetryableError, so a receiver directly upstream answers
// UNAVAILABLE / 503 and the application's SDK keeps the data and retries: nothing is buffered
// without bound. Warnings are logged once per episode (reset when sending succeeds again).
import type { CreateSettings, Host } from '../../component/component.ts';
import { PermanentError, RetryableError } from '../../component/errors.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { OnceWarning } from '../../telemetry/logger.ts';
import type { QueuedExporterConfig } from './config.ts';
import { exporterObs, registerQueueGauges, type ExporterObs } from './obs.ts';
import { noteHeld, noteReleased } from '../../runtime/released-memory.ts';
import { BoundedQueue, consumeEach } from './queue.ts';
import { RequestTooLarge, type ExportRequest, type ExportSender, type RequestLimits, type SendOutcome } from './request.ts';
import { Backoff, retryDelay, RetryRemainder, sleep } from './retry.ts';

/** Without a deadline from the host (tests, embedding), drain for at most this long. */
const FALLBACK_DRAIN_MS = 25_000;

/**
 * A request refused as too large is split only while it is larger than this: below it the refusal
 * is about something else (or one span is over a per-span limit), and halving further would turn
 * one refusal into thousands of requests.
 */
const MIN_SPLIT_BYTES = 16 * 1024;

const NO_LIMITS: RequestLimits = { items: 0, bytes: 0 };

export class QueuedSender<R extends ExportRequest> {
  private readonly cfg: QueuedExporterConfig;
  private readonly sender: ExportSender<R>;
  private readonly logger: Logger;
  private readonly obs: ExporterObs;
  private readonly queue: BoundedQueue<R>;
  /** Aborts every attempt and backoff wait: fired at the drain deadline. */
  private readonly stop = new AbortController();
  private consumers: Promise<void>[] = [];
  /** Sends made in the caller when the queue is disabled; shutdown waits for them too. */
  private readonly inline = new Set<Promise<Error | undefined>>();
  private host: Host | undefined;
  private deadline: number | undefined;
  private stopping: Promise<void> | undefined;
  private readonly queueFull: OnceWarning;
  private readonly failing: OnceWarning;
  private readonly dropping: OnceWarning;
  private readonly partial: OnceWarning;
  private readonly splitting: OnceWarning;
  private readonly limits: RequestLimits;

  /** `limits` cap each request sent (the sender splits larger ones); 0 = none. */
  constructor(settings: CreateSettings, cfg: QueuedExporterConfig, sender: ExportSender<R>, limits: RequestLimits = NO_LIMITS) {
    this.cfg = cfg;
    this.sender = sender;
    this.limits = limits;
    this.logger = settings.logger;
    this.obs = exporterObs(settings.metrics, settings.id);
    const q = cfg.sending_queue;
    this.queue = new BoundedQueue<R>(q.queue_size, q.max_bytes);
    if (q.enabled) registerQueueGauges(settings.metrics, settings.id, this.queue);
    this.queueFull = new OnceWarning(this.logger, 'sending queue is full; refusing data with a retryable error (senders should retry)');
    this.failing = new OnceWarning(this.logger, 'export failed; retrying with backoff');
    this.dropping = new OnceWarning(this.logger, 'export failed for good; data dropped');
    this.partial = new OnceWarning(this.logger, 'backend rejected part of the data (partial success); those items are dropped');
    this.splitting = new OnceWarning(this.logger, 'backend refused a request as too large; sending it again in smaller parts');
  }

  start(host: Host): void {
    this.host = host;
    if (!this.cfg.sending_queue.enabled) return;
    for (let i = 0; i < this.cfg.sending_queue.num_consumers; i++) this.consumers.push(this.consume());
  }

  /**
   * Queues a request (or, with the queue disabled, sends it and waits). Rejects with
   * RetryableError when the queue is full or shutting down.
   */
  async enqueue(req: R): Promise<void> {
    if (!this.cfg.sending_queue.enabled) {
      if (this.stopping !== undefined) throw new RetryableError('exporter is shutting down');
      noteHeld(req.bytes);
      const sending = this.deliver(req);
      this.inline.add(sending);
      try {
        const err = await sending;
        if (err !== undefined) throw err;
      } finally {
        this.inline.delete(sending);
        noteReleased(req.bytes);
      }
      return;
    }
    if (this.queue.offer(req)) {
      this.queueFull.reset();
      return;
    }
    this.obs.bySignal[req.signal].enqueueFailed.add(req.items);
    if (this.queue.isClosed) throw new RetryableError('exporter is shutting down');
    this.queueFull.warn({ queue_size: this.queue.size, queue_bytes: this.queue.bytes });
    throw new RetryableError(`sending queue is full (${this.queue.size} requests, ${this.queue.bytes} bytes)`, { retryAfterMs: 1000 });
  }

  /**
   * Stops taking data and sends what is queued, retrying as configured, until the service's drain
   * deadline; what is still unsent then is dropped and counted. Safe to call twice.
   */
  shutdown(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<void> {
    this.deadline = this.host?.drainDeadline ?? Date.now() + FALLBACK_DRAIN_MS;
    this.queue.close();
    // This timer is deliberately not unref'd: it keeps the process alive until the drain ends.
    const timer = setTimeout(() => this.stop.abort(), Math.max(0, this.deadline - Date.now()));
    try {
      await Promise.all([...this.consumers, ...this.inline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private consume(): Promise<void> {
    return consumeEach(this.queue, async (req) => {
      try {
        await this.deliver(req);
      } finally {
        this.queue.done(req);
      }
    });
  }

  /**
   * Sends a request in parts within the request limits, each with retries; counts the outcome;
   * returns the error that made a part give up, if any.
   */
  private deliver(req: R): Promise<Error | undefined> {
    const { items, bytes } = this.limits;
    const fits = (items <= 0 || req.items <= items) && (bytes <= 0 || req.bytes <= bytes);
    const parts = fits ? undefined : this.sender.split?.(req, items, bytes);
    return parts === undefined ? this.deliverPart(req) : this.deliverAll(parts);
  }

  private async deliverAll(parts: R[]): Promise<Error | undefined> {
    let failed: Error | undefined;
    for (const p of parts) failed = (await this.deliverPart(p)) ?? failed;
    return failed;
  }

  /**
   * Smaller requests for one the backend refused as too large: down to the limit it named, else in
   * halves. Undefined when it cannot or should not be split further.
   */
  private smaller(req: R, err: RequestTooLarge): R[] | undefined {
    if (req.items <= 1 || req.bytes < MIN_SPLIT_BYTES || this.sender.split === undefined) return undefined;
    const limit = err.limitBytes;
    const parts = limit !== undefined && limit < req.bytes ? this.sender.split(req, 0, limit) : this.sender.split(req, Math.ceil(req.items / 2), 0);
    return parts !== undefined && parts.length > 1 ? parts : undefined;
  }

  /** Sends one request with retries; counts the outcome; returns the error that made it give up, if any. */
  private async deliverPart(first: R): Promise<Error | undefined> {
    const started = Date.now();
    const backoff = new Backoff(this.cfg.retry_on_failure);
    const { enabled: retryEnabled, max_elapsed_time } = this.cfg.retry_on_failure;
    let req = first;
    for (;;) {
      if (this.stop.signal.aborted) return this.giveUp(req, new RetryableError('drain deadline passed before the data could be sent'));
      let err: unknown;
      try {
        const out = await this.attempt(req);
        this.delivered(req, out);
        return undefined;
      } catch (e) {
        err = e;
      }
      if (err instanceof RetryRemainder) {
        const remaining = err.remaining as R;
        this.obs.bySignal[req.signal].sent.add(req.items - remaining.items);
        req = remaining;
      }
      if (err instanceof RequestTooLarge) {
        const parts = this.smaller(req, err);
        if (parts === undefined) return this.giveUp(req, err);
        this.splitting.warn({ signal: req.signal, items: req.items, bytes: req.bytes, parts: parts.length, err: err.message });
        return this.deliverAll(parts);
      }
      if (err instanceof PermanentError) return this.giveUp(req, err);
      if (this.stop.signal.aborted) return this.giveUp(req, new RetryableError('drain deadline passed during a send', { cause: err }));
      const cause = asError(err);
      if (!retryEnabled) return this.giveUp(req, new RetryableError(cause.message, { cause }));
      const delay = retryDelay(backoff.next(), err);
      const retryAt = Date.now() + delay;
      if (max_elapsed_time > 0 && retryAt - started > max_elapsed_time) {
        return this.giveUp(req, new RetryableError(`no more retries left (max_elapsed_time ${max_elapsed_time}ms): ${cause.message}`, { cause }));
      }
      if (this.deadline !== undefined && retryAt > this.deadline) {
        return this.giveUp(req, new RetryableError(`next retry would fall after the drain deadline: ${cause.message}`, { cause }));
      }
      this.failing.warn({ err: cause.message, retry_in_ms: delay });
      this.obs.retries.add(1);
      await sleep(delay, this.stop.signal);
    }
  }

  /**
   * One send with its own abort signal: fired at `timeout` or by the drain deadline. (A controller
   * per attempt rather than AbortSignal.any over the long-lived stop signal, whose dependants are
   * only released by garbage collection.)
   */
  private async attempt(req: R): Promise<SendOutcome | void> {
    const ac = new AbortController();
    const abort = () => ac.abort();
    const timer = setTimeout(() => ac.abort(new RetryableError(`send timed out after ${this.cfg.timeout}ms`)), this.cfg.timeout);
    timer.unref();
    this.stop.signal.addEventListener('abort', abort, { once: true });
    try {
      return await this.sender.send(req, ac.signal);
    } finally {
      clearTimeout(timer);
      this.stop.signal.removeEventListener('abort', abort);
    }
  }

  private delivered(req: R, out: SendOutcome | void): void {
    const c = this.obs.bySignal[req.signal];
    const rejected = out ? Math.min(req.items, Math.max(0, out.rejected)) : 0;
    c.sent.add(req.items - rejected);
    if (out && (rejected > 0 || out.message !== '')) {
      c.failed.add(rejected);
      this.partial.warn({ signal: req.signal, rejected, message: out.message });
    } else {
      this.partial.reset();
    }
    this.failing.reset();
    this.dropping.reset();
  }

  private giveUp(req: R, err: Error): Error {
    this.obs.bySignal[req.signal].failed.add(req.items);
    this.dropping.warn({ signal: req.signal, items: req.items, err: err.message, permanent: err instanceof PermanentError });
    return err;
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
