// Builds pipelines from a validated config and owns start and shutdown, in the collector's order:
// start extensions → exporters → processors → receivers; shut down in reverse so every stage
// flushes into stages that still run.
import type {
  Component,
  Consumers,
  CreateSettings,
  Exporter,
  Host,
  Kind,
  OpaqueConsumer,
  Processor,
  ServiceStatus,
  TracesConsumer,
} from '../component/component.ts';
import { fanoutOpaque, fanoutTraces } from '../component/fanout.ts';
import type { SidecarConfig } from '../config/service-config.ts';
import type { Logger } from '../telemetry/logger.ts';
import { MetricsRegistry } from '../telemetry/metrics.ts';
import { components, type ComponentRegistry } from './components.ts';
import { selfFilterFactory } from '../processors/tracebridge_selffilter/factory.ts';
import { SELF_FILTER_TYPE } from '../processors/tracebridge_selffilter/config.ts';
import { registerProcessMetrics, TelemetryServer } from './telemetry-server.ts';
import { registerConfigStatus, type ConfigStatus, type ConfigStatusHost } from './config-status.ts';

export class Service implements Host, ConfigStatusHost {
  status: ServiceStatus = 'starting';
  readonly startedAt = new Date();
  readonly metrics: MetricsRegistry;
  readonly extensions = new Map<string, Component>();
  readonly exporters = new Map<string, Exporter>();
  readonly receivers = new Map<string, Component>();
  /** Processors per pipeline, in pipeline order. */
  readonly processors = new Map<string, Processor[]>();
  telemetry: TelemetryServer | undefined;
  /** Epoch ms by which shutdown must be done (service.shutdown_timeout); exporters stop draining then. */
  drainDeadline: number | undefined;
  private readonly cfg: SidecarConfig;
  private readonly logger: Logger;
  private readonly registry: ComponentRegistry;
  private stopping: Promise<void> | undefined;
  private cfgStatus: ConfigStatus | undefined;

  constructor(cfg: SidecarConfig, logger: Logger, registry: ComponentRegistry = components, metrics = new MetricsRegistry()) {
    this.cfg = cfg;
    this.logger = logger;
    this.registry = registry;
    this.metrics = metrics;
    registerProcessMetrics(metrics, this.startedAt.getTime());
  }

  /** Where the config came from and its errors (health body, `tracebridge_config_errors`). */
  get configStatus(): ConfigStatus | undefined {
    return this.cfgStatus;
  }

  set configStatus(status: ConfigStatus | undefined) {
    this.cfgStatus = status;
    if (status !== undefined) registerConfigStatus(this.metrics, status);
  }

  getExtension(id: string): Component | undefined {
    return this.extensions.get(id);
  }

  private settings(id: string, kind: Kind, pipeline?: string): CreateSettings {
    return { id, kind, logger: this.logger.child({ kind, name: id }), metrics: this.metrics, pipeline };
  }

  private async build(): Promise<void> {
    const { cfg, registry } = this;
    for (const id of cfg.service.extensions) {
      const c = cfg.extensions.get(id)!;
      this.extensions.set(id, await registry.extension.get(c.type)!.create(this.settings(id, 'extension'), c.config));
    }
    const used = new Set(cfg.service.pipelines.flatMap((p) => p.exporters));
    for (const id of used) {
      const c = cfg.exporters.get(id)!;
      this.exporters.set(id, await registry.exporter.get(c.type)!.create(this.settings(id, 'exporter'), c.config));
    }
    const entries = new Map<string, { traces: TracesConsumer[]; metrics: OpaqueConsumer[]; logs: OpaqueConsumer[] }>();
    for (const p of cfg.service.pipelines) {
      let entry: TracesConsumer | OpaqueConsumer;
      if (p.signal === 'traces') {
        let next: TracesConsumer = fanoutTraces(p.exporters.map((e) => this.exporters.get(e)!.traces!));
        const procs: Processor[] = [];
        for (const id of [...p.processors].reverse()) {
          const c = cfg.processors.get(id)!;
          const proc = await registry.processor.get(c.type)!.create(this.settings(id, 'processor', p.id), c.config, next);
          procs.unshift(proc);
          next = proc;
        }
        // The sidecar never traces itself: unless the pipeline lists the self filter,
        // one with its defaults goes first.
        if (!p.processors.some((id) => id.split('/')[0] === SELF_FILTER_TYPE)) {
          const proc = await selfFilterFactory.create(this.settings(SELF_FILTER_TYPE, 'processor', p.id), selfFilterFactory.config.defaultValue, next);
          procs.unshift(proc);
          next = proc;
        }
        this.processors.set(p.id, procs);
        // The fan-out in front of the pipeline decides whether the pipeline gets its own copy.
        // What counts is whether any of its processors changes data in place, not just the first
        // (the collector aggregates MutatesData over the whole chain the same way).
        entry = procs.some((proc) => proc.mutatesData === true) ? mutating(next) : next;
      } else {
        // Metrics and logs pass through unread: processors do not apply to opaque bytes.
        const signal = p.signal;
        entry = fanoutOpaque(p.exporters.map((e) => this.exporters.get(e)![signal]!));
      }
      for (const r of p.receivers) {
        const e = entries.get(r) ?? { traces: [], metrics: [], logs: [] };
        if (p.signal === 'traces') e.traces.push(entry as TracesConsumer);
        else e[p.signal].push(entry as OpaqueConsumer);
        entries.set(r, e);
      }
    }
    for (const [id, e] of entries) {
      const c = cfg.receivers.get(id)!;
      const next: Consumers = {
        traces: e.traces.length > 0 ? fanoutTraces(e.traces) : undefined,
        metrics: e.metrics.length > 0 ? fanoutOpaque(e.metrics) : undefined,
        logs: e.logs.length > 0 ? fanoutOpaque(e.logs) : undefined,
      };
      this.receivers.set(id, await registry.receiver.get(c.type)!.create(this.settings(id, 'receiver'), c.config, next));
    }
  }

  async start(): Promise<void> {
    await this.build();
    const addr = this.cfg.service.telemetry.metrics.address;
    if (addr !== undefined) {
      this.telemetry = new TelemetryServer(this.metrics, addr);
      try {
        await this.telemetry.start();
      } catch (err) {
        this.logger.error({ address: addr, err: (err as Error).message }, 'metrics endpoint could not start; continuing without it');
        this.telemetry = undefined;
      }
    }
    for (const c of this.extensions.values()) await c.start(this);
    for (const c of this.exporters.values()) await c.start(this);
    for (const procs of this.processors.values()) for (const p of procs) await p.start(this);
    for (const c of this.receivers.values()) await c.start(this);
    this.status = 'running';
    this.logger.info(
      { pipelines: this.cfg.service.pipelines.map((p) => p.id), receivers: [...this.receivers.keys()], exporters: [...this.exporters.keys()] },
      'tracebridge sidecar running',
    );
  }

  /** Stops intake, flushes processors, drains exporters. Safe to call twice. */
  shutdown(): Promise<void> {
    this.stopping ??= this.doShutdown();
    return this.stopping;
  }

  private async doShutdown(): Promise<void> {
    this.status = 'stopping';
    this.drainDeadline = Date.now() + this.cfg.service.shutdownTimeoutMs;
    // A classic sidecar gets SIGTERM with the app, whose SDK flushes its last spans now: the
    // receivers keep taking them for receiver_grace (0 for a native sidecar, stopped after the app).
    const grace = Math.min(this.cfg.service.receiverGraceMs, this.cfg.service.shutdownTimeoutMs);
    if (grace > 0) {
      this.logger.info({ receiver_grace_ms: grace }, 'shutting down: receivers stay open for the app\'s final flush');
      await new Promise((resolve) => setTimeout(resolve, grace));
    }
    this.logger.info('shutting down: stopping intake, draining');
    await Promise.all([...this.receivers.values()].map((c) => c.shutdown()));
    for (const procs of this.processors.values()) for (const p of procs) await p.shutdown();
    await Promise.all([...this.exporters.values()].map((c) => c.shutdown()));
    await Promise.all([...this.extensions.values()].map((c) => c.shutdown()));
    await this.telemetry?.shutdown();
    this.status = 'stopped';
    this.logger.info('shutdown complete');
  }
}

/** The same consumer, marked as changing the data it is given. */
function mutating(c: TracesConsumer): TracesConsumer {
  return { mutatesData: true, consumeTraces: (d) => c.consumeTraces(d) };
}
