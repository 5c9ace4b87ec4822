// The `loadbalancing` exporter: routes every span to one of several OTLP/gRPC backends (a tier of
// collector gateways) by a consistent hash of its routing key (trace ID by default), so each
// gateway sees whole traces (tail sampling, span-to-metrics) and every sidecar makes the same
// choice without coordination.
//
// Nothing is lost when the backends change. The collector's loadbalancingexporter gives each
// backend its own queue, and data waiting there for a backend that scales away goes with it. Here
// there is one bounded queue (sending_queue, in batches and bytes) before routing, and the
// per-backend otlp exporters have none: each attempt routes the batch on the ring of that moment,
// sends each backend its part, and whatever a backend failed is retried as a remainder that is
// routed again on the next attempt, to the trace's owner then. A backend removed by the resolver
// is closed at once; its in-flight send either completes or fails and is re-routed.
//
// A batch part a backend failed is parked for its backoff (routing-queue.ts) instead of holding a
// consumer, so a backend that is down but still listed does not stall the others.
//
// Acknowledgement follows the shared exporters/internal queue: data is accepted once queued, a
// full queue refuses with a retryable error (the receiver answers UNAVAILABLE/503 and the
// application retries), and data is dropped only for a permanent error, after max_elapsed_time or
// at the shutdown deadline, always counted (otelcol_exporter_send_failed_spans_total) and logged
// once per episode.
import type { CreateSettings, Exporter, Host, TracesConsumer } from '../../component/component.ts';
import { PermanentError, RetryableError } from '../../component/errors.ts';
import { bufferView } from '../../pdata/buffer-view.ts';
import { splitTraceRequest } from '../../pdata/split.ts';
import { TracesData } from '../../pdata/traces.ts';
import { OnceWarning } from '../../telemetry/logger.ts';
import { MetricsRegistry, type BoundCounter } from '../../telemetry/metrics.ts';
import { exporterObs, registerQueueGauges, type SignalCounters } from '../internal/obs.ts';
import { Backoff, retryDelay } from '../internal/retry.ts';
import { OtlpExporter } from '../otlp/exporter.ts';
import type { LoadBalancingExporterConfig } from './config.ts';
import { backendObs, type BackendObs } from './obs.ts';
import type { Resolver } from './resolver.ts';
import { HashRing } from './ring.ts';
import { RoutingQueue } from './routing-queue.ts';
import { consumeEach } from '../internal/queue.ts';
import { KeyHasher, route, type Route } from './routing.ts';

/** Without a deadline from the host (tests, embedding), drain for at most this long. */
const FALLBACK_DRAIN_MS = 25_000;

interface LbRequest {
  readonly items: number;
  readonly bytes: number;
  readonly data: TracesData;
  /** Backends that failed this data on the previous attempt (to count re-routed spans). */
  readonly failedOn?: ReadonlySet<string>;
  /** Epoch ms of the first attempt (0 before it), for max_elapsed_time. */
  started: number;
  backoff?: Backoff;
}

/** What one attempt at a batch came to. */
interface Attempt {
  delivered: number;
  /** Spans a backend refused for good (permanent error or partial success). */
  rejected: number;
  messages: string[];
  /** What a backend failed with a retryable error: routed again on the next attempt. */
  retry: TracesData[];
  failedOn: Set<string>;
  err?: Error;
  retryAfterMs?: number;
}

export class LoadBalancingExporter implements Exporter {
  readonly traces: TracesConsumer;
  private readonly settings: CreateSettings;
  private readonly cfg: LoadBalancingExporterConfig;
  private readonly resolver: Resolver;
  private readonly hasher: KeyHasher;
  private readonly queue: RoutingQueue<LbRequest>;
  private readonly counters: SignalCounters;
  private readonly retries: BoundCounter;
  private readonly obs: BackendObs;
  /** Per-backend exporters report nothing of their own: their sends are counted here, per endpoint. */
  private readonly backendMetrics = new MetricsRegistry();
  private readonly stop = new AbortController();
  private readonly queueFull: OnceWarning;
  private readonly failing: OnceWarning;
  private readonly dropping: OnceWarning;
  private readonly partial: OnceWarning;
  private ring = new HashRing([]);
  private backends = new Map<string, OtlpExporter>();
  private consumers: Promise<void>[] = [];
  private host: Host | undefined;
  private deadline: number | undefined;
  private stopped: Promise<void> | undefined;

  constructor(settings: CreateSettings, cfg: LoadBalancingExporterConfig, resolver: Resolver, resolverType: string) {
    this.settings = settings;
    this.cfg = cfg;
    this.resolver = resolver;
    this.hasher = new KeyHasher(cfg.routing_key, cfg.routing_attributes);
    const q = cfg.sending_queue;
    this.queue = new RoutingQueue(q.queue_size, q.max_bytes);
    const obs = exporterObs(settings.metrics, settings.id);
    this.counters = obs.bySignal.traces;
    this.retries = obs.retries;
    registerQueueGauges(settings.metrics, settings.id, this.queue);
    this.obs = backendObs(settings.metrics, settings.id, () => this.backends.size, resolverType);
    const log = settings.logger;
    this.queueFull = new OnceWarning(log, 'sending queue is full; refusing data with a retryable error (senders should retry)');
    this.failing = new OnceWarning(log, 'a load-balancing backend failed; its part is retried with backoff, routed to the owner of that moment');
    this.dropping = new OnceWarning(log, 'export failed for good; data dropped');
    this.partial = new OnceWarning(log, 'a backend rejected part of the data (partial success or permanent error); those spans are dropped');
    this.traces = {
      mutatesData: false,
      consumeTraces: (d: TracesData) => this.enqueue({ items: d.spanCount, bytes: d.byteLength, data: d, started: 0 }),
    };
  }

  async start(host: Host): Promise<void> {
    this.host = host;
    await this.resolver.start((endpoints) => this.useBackends(endpoints));
    for (let i = 0; i < this.cfg.sending_queue.num_consumers; i++) this.consumers.push(this.consume());
  }

  private enqueue(req: LbRequest): Promise<void> {
    if (this.queue.offer(req)) {
      this.queueFull.reset();
      return Promise.resolve();
    }
    this.counters.enqueueFailed.add(req.items);
    if (this.queue.isClosed) return Promise.reject(new RetryableError('exporter is shutting down'));
    this.queueFull.warn({ queue_size: this.queue.size, queue_bytes: this.queue.bytes });
    return Promise.reject(new RetryableError(`sending queue is full (${this.queue.size} batches, ${this.queue.bytes} bytes)`, { retryAfterMs: 1000 }));
  }

  /** Swaps in a new backend list: new exporters for new endpoints, removed ones closed, a new ring. */
  private useBackends(endpoints: readonly string[]): void {
    if (this.stopped !== undefined || this.host === undefined) return;
    const next = new Map<string, OtlpExporter>();
    for (const ep of endpoints) {
      let exp = this.backends.get(ep);
      if (exp === undefined) {
        exp = new OtlpExporter(
          { ...this.settings, id: `${this.settings.id}/${ep}`, logger: this.settings.logger.child({ backend: ep }), metrics: this.backendMetrics },
          { ...this.cfg.protocol.otlp, endpoint: ep },
        );
        // Creates the gRPC channel synchronously; connecting happens on first use.
        void exp.start(this.host);
      }
      next.set(ep, exp);
    }
    // A removed backend's send in flight completes or fails; what fails is routed again.
    for (const [ep, exp] of this.backends) if (!next.has(ep)) void exp.shutdown();
    this.backends = next;
    this.ring = new HashRing(endpoints);
    this.settings.logger.info({ backends: this.ring.endpoints }, 'load-balancing backends in use');
  }

  private consume(): Promise<void> {
    return consumeEach(this.queue, (req) => this.process(req));
  }

  /** One attempt at a batch; what failed is parked for a retry, or given up and counted. */
  private async process(req: LbRequest): Promise<void> {
    if (this.stop.signal.aborted) {
      this.giveUp(req.items, new RetryableError('drain deadline passed before the data could be sent'));
      this.queue.done(req);
      return;
    }
    if (req.started === 0) req.started = Date.now();
    const a = await this.attempt(req);
    this.counters.sent.add(a.delivered);
    if (a.rejected > 0 || a.messages.length > 0) {
      this.counters.failed.add(a.rejected);
      this.partial.warn({ rejected: a.rejected, message: a.messages.join('; ') });
    }
    if (a.retry.length === 0) {
      this.failing.reset();
      this.dropping.reset();
      this.queue.done(req);
      return;
    }
    const data = TracesData.concat(a.retry);
    const err = a.err ?? new RetryableError('send failed');
    const retry = this.cfg.retry_on_failure;
    const backoff = req.backoff ?? new Backoff(retry);
    const delay = retryDelay(backoff.next(), a.retryAfterMs === undefined ? err : new RetryableError(err.message, { retryAfterMs: a.retryAfterMs }));
    const retryAt = Date.now() + delay;
    let reason: string | undefined;
    if (this.stop.signal.aborted) reason = 'drain deadline passed during a send';
    else if (!retry.enabled) reason = 'retry_on_failure is disabled';
    else if (retry.max_elapsed_time > 0 && retryAt - req.started > retry.max_elapsed_time) reason = `no more retries left (max_elapsed_time ${retry.max_elapsed_time}ms)`;
    else if (this.deadline !== undefined && retryAt > this.deadline) reason = 'next retry would fall after the drain deadline';
    if (reason !== undefined) {
      this.giveUp(data.spanCount, new RetryableError(`${reason}: ${err.message}`, { cause: err }));
      this.queue.done(req);
      return;
    }
    this.failing.warn({ err: err.message, backends: [...a.failedOn], retry_in_ms: delay });
    this.retries.add(1);
    this.queue.retryLater(req, { items: data.spanCount, bytes: data.byteLength, data, failedOn: a.failedOn, started: req.started, backoff }, delay);
  }

  /** Routes the batch on the current ring and sends every part, within `timeout`. */
  private async attempt(req: LbRequest): Promise<Attempt> {
    const out: Attempt = { delivered: 0, rejected: 0, messages: [], retry: [], failedOn: new Set() };
    const ring = this.ring;
    if (ring.size === 0) {
      out.retry.push(req.data);
      out.err = new RetryableError('no load-balancing backends resolved (yet)');
      return out;
    }
    const routes = route(req.data, ring, this.hasher);
    const backends = this.backends;
    if (req.failedOn !== undefined) {
      for (const r of routes) if (!req.failedOn.has(r.endpoint)) this.obs.rerouted.add(r.data.spanCount);
    }
    const ac = new AbortController();
    const abort = () => ac.abort();
    const timer = setTimeout(() => ac.abort(), this.cfg.timeout);
    timer.unref();
    this.stop.signal.addEventListener('abort', abort, { once: true });
    try {
      await Promise.all(routes.map((r) => this.sendPart(backends.get(r.endpoint), r, ac.signal, out)));
    } finally {
      clearTimeout(timer);
      this.stop.signal.removeEventListener('abort', abort);
    }
    return out;
  }

  /** Sends one backend its part (in pieces within the request limits), recording the outcome in `out`. */
  private async sendPart(backend: OtlpExporter | undefined, r: Route, abort: AbortSignal, out: Attempt): Promise<void> {
    const { max_request_spans: maxSpans, max_request_bytes: maxBytes } = this.cfg.protocol.otlp;
    const fits = (maxSpans <= 0 || r.data.spanCount <= maxSpans) && (maxBytes <= 0 || r.data.byteLength <= maxBytes);
    const pieces = fits ? [r.data] : splitTraceRequest(r.data.bytes, r.data.spanCount, maxSpans, maxBytes).map((p) => TracesData.trusted(p.bytes, p.spans));
    let ok = true;
    for (const piece of pieces) {
      try {
        if (backend === undefined) throw new RetryableError(`backend ${r.endpoint} was removed`);
        const res = await backend.send({ signal: 'traces', items: piece.spanCount, bytes: piece.byteLength, payload: bufferView(piece.bytes) }, abort);
        const rejected = Math.min(piece.spanCount, Math.max(0, res?.rejected ?? 0));
        out.delivered += piece.spanCount - rejected;
        out.rejected += rejected;
        if (res !== undefined && res.message !== '') out.messages.push(`${r.endpoint}: ${res.message}`);
      } catch (e) {
        ok = false;
        const err = e instanceof Error ? e : new Error(String(e));
        if (err instanceof PermanentError) {
          out.rejected += piece.spanCount;
          out.messages.push(`${r.endpoint}: ${err.message}`);
          continue;
        }
        out.retry.push(piece);
        out.failedOn.add(r.endpoint);
        out.err ??= err;
        const hint = err instanceof RetryableError ? err.retryAfterMs : undefined;
        if (hint !== undefined) out.retryAfterMs = Math.max(out.retryAfterMs ?? 0, hint);
      }
    }
    this.obs.outcome(r.endpoint, ok);
  }

  private giveUp(items: number, err: Error): void {
    this.counters.failed.add(items);
    this.dropping.warn({ items, err: err.message });
  }

  /**
   * Stops taking data and sends what is queued or parked (still routing, still following the
   * resolver) until the service's drain deadline; what is unsent then is dropped and counted.
   * Then stops the resolver and the backends. Safe to call twice.
   */
  shutdown(): Promise<void> {
    this.stopped ??= (async () => {
      this.deadline = this.host?.drainDeadline ?? Date.now() + FALLBACK_DRAIN_MS;
      this.queue.close();
      // Deliberately not unref'd: it keeps the process alive until the drain ends.
      const timer = setTimeout(() => {
        this.stop.abort();
        this.queue.wakeAll();
      }, Math.max(0, this.deadline - Date.now()));
      try {
        await Promise.all(this.consumers);
      } finally {
        clearTimeout(timer);
      }
      await this.resolver.shutdown();
      await Promise.all([...this.backends.values()].map((b) => b.shutdown()));
    })();
    return this.stopped;
  }
}
