// Test doubles: a traces sink exporter (type `sink`) that records what reaches it, and helpers to
// run a Service from YAML with it. Registered beside the real components, so pipelines are built
// exactly as in production.
import type { Exporter, ExporterFactory, OpaqueConsumer, TracesConsumer } from '../../sidecar/component/component.ts';
import { object, withDefault, oneOf } from '../../sidecar/config/schema.ts';
import { parseConfigText, expandEnv } from '../../sidecar/config/load.ts';
import { decodeSidecarConfig } from '../../sidecar/config/service-config.ts';
import type { OpaqueData, TracesData } from '../../sidecar/pdata/traces.ts';
import { components, type ComponentRegistry } from '../../sidecar/service/components.ts';
import { Service } from '../../sidecar/service/service.ts';
import { createLogger } from '../../sidecar/telemetry/logger.ts';
import { RetryableError } from '../../sidecar/component/errors.ts';

export class SinkExporter implements Exporter, TracesConsumer, OpaqueConsumer {
  readonly traces = this;
  readonly metrics = this;
  readonly logs = this;
  readonly batches: TracesData[] = [];
  readonly opaque: OpaqueData[] = [];
  mode: 'accept' | 'refuse' = 'accept';
  private waiters: { spans: number; resolve: () => void }[] = [];

  consumeTraces(data: TracesData): Promise<void> {
    if (this.mode === 'refuse') return Promise.reject(new RetryableError('sink refuses', { retryAfterMs: 2000 }));
    this.batches.push(data);
    this.waiters = this.waiters.filter((w) => {
      if (this.spanCount() >= w.spans) w.resolve();
      return this.spanCount() < w.spans;
    });
    return Promise.resolve();
  }

  consumeOpaque(data: OpaqueData): Promise<void> {
    this.opaque.push(data);
    return Promise.resolve();
  }

  spanCount(): number {
    return this.batches.reduce((n, b) => n + b.spanCount, 0);
  }

  /** All spans received so far, decoded, with their resource. */
  spans() {
    return this.batches.flatMap((b) =>
      (b.toObjects().resourceSpans ?? []).flatMap((rs) => (rs.scopeSpans ?? []).flatMap((ss) => (ss.spans ?? []).map((span) => ({ resource: rs.resource, scope: ss.scope, span })))),
    );
  }

  /** Resolves when at least `n` spans have arrived; rejects after `ms`. */
  waitForSpans(n: number, ms = 5000): Promise<void> {
    if (this.spanCount() >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} spans (have ${this.spanCount()})`)), ms);
      this.waiters.push({
        spans: n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export const sinks = new Map<string, SinkExporter>();

const sinkFactory: ExporterFactory<{ mode: 'accept' | 'refuse' }> = {
  type: 'sink',
  config: object({ mode: withDefault(oneOf(['accept', 'refuse']), 'accept') }),
  signals: ['traces', 'metrics', 'logs'],
  create(settings, config) {
    const sink = new SinkExporter();
    sink.mode = config.mode;
    sinks.set(settings.id, sink);
    return Promise.resolve(sink);
  },
};

export const testRegistry: ComponentRegistry = {
  ...components,
  exporter: new Map([...components.exporter, ['sink', sinkFactory]]),
};

export const silentLogger = createLogger('silent');

/** Builds and starts a Service from YAML (env-expanded) with the sink exporter available. */
export async function startService(yaml: string, env: Record<string, string> = {}, registry: ComponentRegistry = testRegistry): Promise<Service> {
  const raw = expandEnv(parseConfigText(yaml, 'test.yaml'), env);
  const cfg = decodeSidecarConfig(raw, registry);
  const svc = new Service(cfg, silentLogger, registry);
  await svc.start();
  return svc;
}
