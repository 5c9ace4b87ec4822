// The main thread's side of the header bridge: it starts the proxy worker, restarts it if it
// dies, folds its counters into the service's metrics and stops it on shutdown. It never touches
// a request: app traffic only ever runs on the worker's event loop.
import { Worker } from 'node:worker_threads';
import type { Component, CreateSettings, Host } from '../../component/component.ts';
import type { Counter } from '../../telemetry/metrics.ts';
import type { HeaderBridgeConfig } from './config.ts';
import { COUNTER_SPECS, CounterReader, newCounterBuffer } from './counters.ts';
import type { ProxyOptions } from './proxy.ts';
import type { FromWorker, ListenerInfo, ListenSpec, ToWorker, WorkerData } from './worker-protocol.ts';

/** Old-generation cap of the worker's heap: the proxy streams, so a leak shows up as a restart, not as a pod OOM. */
const WORKER_HEAP_MB = 64;
const METRICS_SYNC_MS = 1000;
const START_TIMEOUT_MS = 10_000;
const SHUTDOWN_GRACE_MS = 2000;
/** A worker that ran this long before dying starts the restart backoff from the beginning. */
const HEALTHY_RUN_MS = 60_000;
const MAX_RESTART_DELAY_MS = 30_000;

// Sources run directly under type stripping; a compiled build (tsconfig.build.json) has .js files,
// and so does the image's bundle, which writes the worker next to the file this module is part of
// (dist/sidecar-image/cli.js and worker.js; sidecar/runtime/bundle.ts).
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

export interface HeaderBridgeOptions {
  /** First restart delay after a worker crash; doubles per consecutive crash up to 30 s. */
  restartDelayMs?: number;
}

export function toProxyOptions(cfg: HeaderBridgeConfig): ProxyOptions {
  return {
    rules: { formats: cfg.formats, primary: cfg.primary, b3Single: cfg.b3_single, startTraces: cfg.start_traces, samplingRatio: cfg.sampling_ratio },
    maxHeaderBytes: cfg.max_header_bytes,
    maxConnections: cfg.max_connections,
    connectTimeoutMs: cfg.connect_timeout,
    responseHeaderTimeoutMs: cfg.response_header_timeout,
    idleTimeoutMs: cfg.idle_timeout,
  };
}

export class HeaderBridgeExtension implements Component {
  private readonly settings: CreateSettings;
  private readonly data: WorkerData;
  private readonly reader: CounterReader;
  private readonly counters: { counter: Counter; labels: Record<string, string> }[];
  private readonly restarts: Counter;
  private readonly listenFailures: Counter;
  private readonly baseRestartDelayMs: number;
  private worker: Worker | undefined;
  private workerStartedAt = 0;
  private consecutiveCrashes = 0;
  private syncTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private current: ListenerInfo[] = [];

  constructor(settings: CreateSettings, cfg: HeaderBridgeConfig, opts: HeaderBridgeOptions = {}) {
    this.settings = settings;
    this.baseRestartDelayMs = opts.restartDelayMs ?? 1000;
    const listen: ListenSpec[] = [
      { name: 'forward', endpoint: cfg.endpoint },
      ...cfg.reverse.map((r, i) => ({ name: `reverse[${i}]`, endpoint: r.endpoint!, target: r.target! })),
    ];
    const buffer = newCounterBuffer();
    this.data = { options: toProxyOptions(cfg), listen, counters: buffer };
    this.reader = new CounterReader(buffer);
    const m = settings.metrics;
    // Bound up front so every series is exported (at 0) before the first request.
    this.counters = COUNTER_SPECS.map((s) => {
      const counter = m.counter(s.name, s.help);
      counter.bind(s.labels);
      return { counter, labels: s.labels };
    });
    this.restarts = m.counter('tracebridge_header_bridge_worker_restarts_total', 'Times the header bridge worker died and was restarted.');
    this.restarts.bind({});
    this.listenFailures = m.counter('tracebridge_header_bridge_listen_failures_total', 'Header bridge listeners that could not bind and were skipped.');
  }

  /** Listeners of the running worker: bound addresses, or the error of one that could not bind. */
  get listeners(): readonly ListenerInfo[] {
    return this.current;
  }

  /** `127.0.0.1:port` of the forward proxy, when it is listening. */
  get forwardAddress(): string | undefined {
    const f = this.current.find((l) => l.name === 'forward' && l.port !== undefined);
    return f === undefined ? undefined : `${f.address!.includes(':') ? `[${f.address}]` : f.address}:${f.port}`;
  }

  async start(_host: Host): Promise<void> {
    this.syncTimer = setInterval(() => this.syncMetrics(), METRICS_SYNC_MS);
    this.syncTimer.unref();
    await this.spawn();
  }

  /** Folds the worker's counts into the registry now (also done every second). */
  syncMetrics(): void {
    this.reader.deltas((_spec, delta, index) => {
      const c = this.counters[index]!;
      c.counter.add(delta, c.labels);
    });
  }

  /** Starts a worker; resolves once it reports its listeners (or fails, which is logged, never thrown). */
  private spawn(): Promise<void> {
    const worker = new Worker(WORKER_URL, {
      workerData: this.data,
      name: 'tracebridge-header-bridge',
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    this.worker = worker;
    this.workerStartedAt = Date.now();
    const log = this.settings.logger;
    return new Promise<void>((resolve) => {
      const startTimer = setTimeout(() => {
        log.error({ timeoutMs: START_TIMEOUT_MS }, 'header bridge worker did not report its listeners in time');
        resolve();
      }, START_TIMEOUT_MS);
      startTimer.unref();
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'listening') {
          this.current = m.listeners;
          for (const l of m.listeners) {
            if (l.error !== undefined) {
              this.listenFailures.add(1, { listener: l.name });
              log.error({ listener: l.name, endpoint: l.endpoint, err: l.error }, 'header bridge listener could not start; skipping it');
            } else {
              log.info({ listener: l.name, endpoint: l.endpoint, port: l.port }, 'header bridge listening');
            }
          }
          clearTimeout(startTimer);
          resolve();
        } else if (m.type === 'log') {
          log[m.level](m.fields, m.msg);
        }
      });
      worker.on('error', (err) => log.error({ err: err.message }, 'header bridge worker failed'));
      worker.on('exit', (code) => {
        clearTimeout(startTimer);
        resolve();
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.current = [];
        if (this.stopping === undefined) this.scheduleRestart(code);
      });
    });
  }

  private scheduleRestart(code: number): void {
    if (Date.now() - this.workerStartedAt >= HEALTHY_RUN_MS) this.consecutiveCrashes = 0;
    const delay = Math.min(MAX_RESTART_DELAY_MS, this.baseRestartDelayMs * 2 ** this.consecutiveCrashes);
    this.consecutiveCrashes++;
    this.settings.logger.error({ exitCode: code, restartInMs: delay }, 'header bridge worker exited; restarting it');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.restarts.add(1);
      void this.spawn();
    }, delay);
    this.restartTimer.unref();
  }

  /** Stops intake, lets in-flight requests finish for a short grace, then stops the worker. Idempotent. */
  shutdown(): Promise<void> {
    this.stopping ??= this.doShutdown();
    return this.stopping;
  }

  private async doShutdown(): Promise<void> {
    clearTimeout(this.restartTimer);
    clearInterval(this.syncTimer);
    const worker = this.worker;
    if (worker !== undefined) {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'shutdown', graceMs: SHUTDOWN_GRACE_MS } satisfies ToWorker);
      const deadline = setTimeout(() => void worker.terminate(), SHUTDOWN_GRACE_MS + 1000);
      deadline.unref();
      await exited;
      clearTimeout(deadline);
    }
    this.syncMetrics();
  }
}
