// The component model, after the collector's: receivers, processors, exporters and extensions,
// each created by a factory from its validated config, started and shut down by the service.
// Stages are joined by one consumer interface; after `consumeTraces` resolves the data belongs
// to the callee.
import type { Logger } from '../telemetry/logger.ts';
import type { MetricsRegistry } from '../telemetry/metrics.ts';
import type { DefaultedSchema } from '../config/schema.ts';
import type { OpaqueData, TracesData } from '../pdata/traces.ts';

export type Signal = 'traces' | 'metrics' | 'logs';
export type Kind = 'receiver' | 'processor' | 'exporter' | 'extension';

export interface TracesConsumer {
  consumeTraces(data: TracesData): Promise<void>;
  /** True when the consumer changes the bytes it is given; fan-out then gives it a copy. */
  readonly mutatesData?: boolean;
}

/** Metrics and logs are passed through unread. */
export interface OpaqueConsumer {
  consumeOpaque(data: OpaqueData): Promise<void>;
}

export interface Consumers {
  traces?: TracesConsumer;
  metrics?: OpaqueConsumer;
  logs?: OpaqueConsumer;
}

export interface Component {
  start(host: Host): Promise<void>;
  /** Idempotent; flushes what the component holds. */
  shutdown(): Promise<void>;
}

export type ServiceStatus = 'starting' | 'running' | 'stopping' | 'stopped';

export interface Host {
  getExtension(id: string): Component | undefined;
  /** Lifecycle state of the whole service (the health check reports it). */
  readonly status: ServiceStatus;
  readonly startedAt: Date;
  /** Epoch ms by which shutdown must be done, set when shutdown starts: stages stop draining then. */
  readonly drainDeadline?: number;
}

/** What every create function gets. `id` is the component ID as written (`otlp/gateway`). */
export interface CreateSettings {
  id: string;
  kind: Kind;
  logger: Logger;
  metrics: MetricsRegistry;
  /** Pipeline ID for processors (one instance per pipeline, as in the collector). */
  pipeline?: string;
}

export interface Processor extends Component, TracesConsumer {}
export interface Exporter extends Component {
  readonly traces?: TracesConsumer;
  readonly metrics?: OpaqueConsumer;
  readonly logs?: OpaqueConsumer;
}

interface FactoryBase<C> {
  readonly type: string;
  readonly config: DefaultedSchema<C>;
  /** Component types that cannot run in a signal's pipeline say so here. */
  readonly signals: readonly Signal[];
}

export interface ReceiverFactory<C = unknown> extends FactoryBase<C> {
  create(settings: CreateSettings, config: C, next: Consumers): Promise<Component>;
}

export interface ProcessorFactory<C = unknown> extends FactoryBase<C> {
  create(settings: CreateSettings, config: C, next: TracesConsumer): Promise<Processor>;
}

export interface ExporterFactory<C = unknown> extends FactoryBase<C> {
  create(settings: CreateSettings, config: C): Promise<Exporter>;
}

export interface ExtensionFactory<C = unknown> extends FactoryBase<C> {
  create(settings: CreateSettings, config: C): Promise<Component>;
}
