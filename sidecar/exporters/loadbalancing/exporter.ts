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
// Acknowledgement is the shared queue's (exporters/internal/queued-sender.ts): data is accepted
// once queued, a full queue refuses with a retryable error (the receiver answers UNAVAILABLE/503
// and the application retries), and data is dropped only for a permanent error, max_elapsed_time
// or the shutdown deadline, always counted.
import type { CreateSettings, Exporter, Host, TracesConsumer } from '../../component/component.ts';
import { PermanentError, RetryableError } from '../../component/errors.ts';
import { bufferView } from '../../pdata/buffer-view.ts';
import { splitTraceRequest } from '../../pdata/split.ts';
import { TracesData } from '../../pdata/traces.ts';
import { MetricsRegistry } from '../../telemetry/metrics.ts';
import { QueuedSender } from '../internal/queued-sender.ts';
import type { ExportRequest, ExportSender, SendOutcome } from '../internal/request.ts';
import { RetryRemainder } from '../internal/retry.ts';
import { OtlpExporter } from '../otlp/exporter.ts';
import type { LoadBalancingExporterConfig } from './config.ts';
import { backendObs, type BackendObs } from './obs.ts';
import type { Resolver } from './resolver.ts';
import { HashRing } from './ring.ts';
import { KeyHasher, route, type Route } from './routing.ts';

interface LbRequest extends ExportRequest {
  readonly data: TracesData;
  /** Backends that failed this data on an earlier attempt (to count re-routed spans). */
  readonly failedOn?: ReadonlySet<string>;
}

/** What one part's send came to. */
type PartResult = { ok: true; rejected: number; message: string } | { ok: false; permanent: boolean; err: Error };

export class LoadBalancingExporter implements Exporter, ExportSender<LbRequest> {
  readonly traces: TracesConsumer;
  private readonly settings: CreateSettings;
  private readonly cfg: LoadBalancingExporterConfig;
  private readonly resolver: Resolver;
  private readonly hasher: KeyHasher;
  private readonly queue: QueuedSender<LbRequest>;
  private readonly obs: BackendObs;
  /** Per-backend exporters report nothing of their own: their sends are counted here, per endpoint. */
  private readonly backendMetrics = new MetricsRegistry();
  private ring = new HashRing([]);
  private backends = new Map<string, OtlpExporter>();
  private host: Host | undefined;
  private stopped: Promise<void> | undefined;

  constructor(settings: CreateSettings, cfg: LoadBalancingExporterConfig, resolver: Resolver, resolverType: string) {
    this.settings = settings;
    this.cfg = cfg;
    this.resolver = resolver;
    this.hasher = new KeyHasher(cfg.routing_key, cfg.routing_attributes);
    const otlp = cfg.protocol.otlp;
    this.queue = new QueuedSender(settings, cfg, this, { items: otlp.max_request_spans, bytes: otlp.max_request_bytes });
    this.obs = backendObs(settings.metrics, settings.id, () => this.backends.size, resolverType);
    this.traces = {
      mutatesData: false,
      consumeTraces: (d: TracesData) => this.queue.enqueue({ signal: 'traces', items: d.spanCount, bytes: d.byteLength, data: d }),
    };
  }

  async start(host: Host): Promise<void> {
    this.host = host;
    this.queue.start(host);
    await this.resolver.start((endpoints) => this.useBackends(endpoints));
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
    for (const [ep, exp] of this.backends) if (!next.has(ep)) void exp.shutdown();
    this.backends = next;
    this.ring = new HashRing(endpoints);
    this.settings.logger.info({ backends: this.ring.endpoints }, 'load-balancing backends in use');
  }

  /** One attempt: route on the current ring, send every part, retry what failed as a remainder. */
  async send(req: LbRequest, abort: AbortSignal): Promise<SendOutcome | void> {
    const ring = this.ring;
    if (ring.size === 0) throw new RetryableError('no load-balancing backends resolved (yet)');
    const routes = route(req.data, ring, this.hasher);
    const backends = this.backends;
    if (req.failedOn !== undefined) {
      for (const r of routes) if (!req.failedOn.has(r.endpoint)) this.obs.rerouted.add(r.data.spanCount);
    }
    const results = await Promise.all(routes.map((r) => this.sendPart(backends.get(r.endpoint), r, abort)));
    let rejected = 0;
    const messages: string[] = [];
    const retry: TracesData[] = [];
    const failedOn = new Set<string>();
    let retryAfterMs: number | undefined;
    let firstErr: Error | undefined;
    results.forEach((res, i) => {
      const r = routes[i]!;
      this.obs.outcome(r.endpoint, res.ok);
      if (res.ok) {
        rejected += res.rejected;
        if (res.message !== '') messages.push(res.message);
      } else if (res.permanent) {
        // Counted as refused by the backend, like a partial success refusing everything.
        rejected += r.data.spanCount;
        messages.push(`${r.endpoint}: ${res.err.message}`);
      } else {
        retry.push(r.data);
        failedOn.add(r.endpoint);
        firstErr ??= res.err;
        const hint = res.err instanceof RetryableError ? res.err.retryAfterMs : undefined;
        if (hint !== undefined) retryAfterMs = Math.max(retryAfterMs ?? 0, hint);
      }
    });
    if (retry.length > 0) {
      const data = TracesData.concat(retry);
      // Items refused for good in this attempt would be counted as sent by the queue (it counts
      // the difference); they are rare (a permanent error beside a retryable one) and logged.
      throw new RetryRemainder<LbRequest>(
        { signal: 'traces', items: data.spanCount, bytes: data.byteLength, data, failedOn },
        `${failedOn.size} of ${routes.length} backends failed: ${firstErr!.message}`,
        { retryAfterMs, cause: firstErr },
      );
    }
    if (rejected === 0 && messages.length === 0) return undefined;
    return { rejected, message: messages.join('; ') };
  }

  private async sendPart(backend: OtlpExporter | undefined, r: Route, abort: AbortSignal): Promise<PartResult> {
    if (backend === undefined) return { ok: false, permanent: false, err: new RetryableError(`backend ${r.endpoint} was removed`) };
    try {
      const out = await backend.send({ signal: 'traces', items: r.data.spanCount, bytes: r.data.byteLength, payload: bufferView(r.data.bytes) }, abort);
      return { ok: true, rejected: out?.rejected ?? 0, message: out?.message ?? '' };
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      return { ok: false, permanent: err instanceof PermanentError, err };
    }
  }

  /** Large batches are split before routing, within the per-backend request limits. */
  split(req: LbRequest, maxItems: number, maxBytes: number): LbRequest[] | undefined {
    return splitTraceRequest(req.data.bytes, req.items, maxItems, maxBytes).map((p) => ({
      signal: 'traces',
      items: p.spans,
      bytes: p.bytes.length,
      data: TracesData.trusted(p.bytes, p.spans),
      ...(req.failedOn === undefined ? {} : { failedOn: req.failedOn }),
    }));
  }

  /** Drains the queue (still routing, still following the resolver), then stops the resolver and the backends. */
  shutdown(): Promise<void> {
    this.stopped ??= (async () => {
      await this.queue.shutdown();
      await this.resolver.shutdown();
      await Promise.all([...this.backends.values()].map((b) => b.shutdown()));
    })();
    return this.stopped;
  }
}
