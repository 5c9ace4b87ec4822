// Every component type the sidecar knows, by kind. Factories are light (config schema plus a
// create function that imports the implementation on demand), so idle memory only pays for what
// the config uses. The factories of components the embedded default never configures load when a
// config names their type (LazyFactories, loadComponentFactories): their config modules alone
// (OTTL parser, regex and hashing for filter/attributes, ...) cost an idle process about 2.6 MiB
// of private memory.
import type { ExporterFactory, ExtensionFactory, Kind, ProcessorFactory, ReceiverFactory } from '../component/component.ts';
import { otlpReceiverFactory } from '../receivers/otlp/factory.ts';
import { zipkinReceiverFactory } from '../receivers/zipkin/factory.ts';
import { awsXrayReceiverFactory } from '../receivers/awsxray/factory.ts';
import { debugExporterFactory } from '../exporters/debug/factory.ts';
import { batchProcessorFactory } from '../processors/batch/factory.ts';
import { tracecontextProcessorFactory } from '../processors/tracecontext/factory.ts';
import { healthCheckFactory } from '../extensions/health_check/factory.ts';
import { otlpExporterFactory } from '../exporters/otlp/factory.ts';
import { otlphttpExporterFactory } from '../exporters/otlphttp/factory.ts';
import { memoryLimiterFactory } from '../processors/memory_limiter/factory.ts';
import { resourceDetectionFactory } from '../processors/resourcedetection/factory.ts';
import { selfFilterFactory } from '../processors/tracebridge_selffilter/factory.ts';

export interface ComponentRegistry {
  receiver: ReadonlyMap<string, ReceiverFactory>;
  processor: ReadonlyMap<string, ProcessorFactory>;
  exporter: ReadonlyMap<string, ExporterFactory>;
  extension: ReadonlyMap<string, ExtensionFactory>;
}

function byType<F extends { type: string }>(list: F[]): ReadonlyMap<string, F> {
  return new Map(list.map((f) => [f.type, f]));
}

/** Imports a lazily loaded factory module and returns the factory. */
type FactoryLoader<F> = () => Promise<F>;

/**
 * Factories known by type: the eager ones given, the others loaded with import() by load() (the
 * CLI and the injector call loadComponentFactories before decoding a config). Each loader is a
 * static import() specifier, so tsc's output loads the module on demand and the image's bundle
 * (sidecar/runtime/bundle.ts) makes it an initializer inside cli.js, run only when a config names
 * the type.
 * has() and keys() load nothing; get() and iteration need the factory loaded and throw if it is not
 * (a programming error: decoding without loading first).
 */
export class LazyFactories<F extends { type: string }> implements ReadonlyMap<string, F> {
  private readonly loaded: Map<string, F>;
  private readonly lazy: Map<string, FactoryLoader<F>>;
  private readonly loading = new Map<string, Promise<void>>();
  constructor(eager: F[], lazy: Record<string, FactoryLoader<F>>) {
    this.loaded = new Map(eager.map((f) => [f.type, f]));
    this.lazy = new Map(Object.entries(lazy));
  }
  get size(): number {
    return this.loaded.size + this.lazy.size;
  }
  has(type: string): boolean {
    return this.loaded.has(type) || this.lazy.has(type);
  }
  /** Loads the factory of `type` if it is a lazily loaded one, once; unknown types are left to decoding to report. */
  load(type: string): Promise<void> {
    const loader = this.lazy.get(type);
    if (loader === undefined) return Promise.resolve();
    let pending = this.loading.get(type);
    if (pending === undefined) {
      pending = loader().then((factory) => {
        this.lazy.delete(type);
        this.loaded.set(type, factory);
      });
      this.loading.set(type, pending);
    }
    return pending;
  }
  get(type: string): F | undefined {
    const done = this.loaded.get(type);
    if (done !== undefined || !this.lazy.has(type)) return done;
    throw new Error(`the factory of component type "${type}" is not loaded: await loadComponentFactories(config) before decoding`);
  }
  *keys(): MapIterator<string> {
    yield* this.loaded.keys();
    yield* this.lazy.keys();
  }
  *entries(): MapIterator<[string, F]> {
    for (const type of [...this.keys()]) yield [type, this.get(type)!];
  }
  *values(): MapIterator<F> {
    for (const [, f] of this.entries()) yield f;
  }
  [Symbol.iterator](): MapIterator<[string, F]> {
    return this.entries();
  }
  forEach(fn: (value: F, key: string, map: ReadonlyMap<string, F>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

export const components: ComponentRegistry = {
  receiver: byType<ReceiverFactory>([otlpReceiverFactory, zipkinReceiverFactory, awsXrayReceiverFactory]),
  processor: new LazyFactories<ProcessorFactory>([memoryLimiterFactory, resourceDetectionFactory, selfFilterFactory, tracecontextProcessorFactory, batchProcessorFactory], {
    probabilistic_sampler: async () => (await import('../processors/probabilistic_sampler/factory.ts')).probabilisticSamplerFactory,
    filter: async () => (await import('../processors/filter/factory.ts')).filterProcessorFactory,
    attributes: async () => (await import('../processors/attributes/factory.ts')).attributesProcessorFactory,
    resource: async () => (await import('../processors/resource/factory.ts')).resourceProcessorFactory,
  }),
  exporter: new LazyFactories<ExporterFactory>([debugExporterFactory, otlpExporterFactory, otlphttpExporterFactory], {
    awsxray: async () => (await import('../exporters/awsxray/factory.ts')).awsxrayExporterFactory,
    loadbalancing: async () => (await import('../exporters/loadbalancing/factory.ts')).loadBalancingExporterFactory,
  }),
  extension: new LazyFactories<ExtensionFactory>([healthCheckFactory], {
    sigv4auth: async () => (await import('../extensions/sigv4auth/factory.ts')).sigv4authFactory,
    header_bridge: async () => (await import('../extensions/header_bridge/factory.ts')).headerBridgeFactory,
  }),
};

/**
 * Loads the factories of every component type a config tree (parsed, not yet decoded) names under
 * receivers, processors, exporters and extensions; with no tree, every factory. Types the registry
 * does not know, and sections that are not maps, are left to decoding to report.
 */
export async function loadComponentFactories(raw?: unknown, registry: ComponentRegistry = components): Promise<void> {
  const loads: Promise<void>[] = [];
  for (const kind of Object.keys(SECTION) as Kind[]) {
    const map = registry[kind];
    if (!(map instanceof LazyFactories)) continue;
    let types: Iterable<string>;
    if (raw === undefined) types = [...map.keys()];
    else {
      const section = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)[SECTION[kind]] : undefined;
      types = section !== null && typeof section === 'object' && !Array.isArray(section) ? Object.keys(section).map((id) => id.split('/')[0]!) : [];
    }
    for (const type of types) loads.push((map as LazyFactories<{ type: string }>).load(type));
  }
  await Promise.all(loads);
}

export const SECTION: Record<Kind, 'receivers' | 'processors' | 'exporters' | 'extensions'> = {
  receiver: 'receivers',
  processor: 'processors',
  exporter: 'exporters',
  extension: 'extensions',
};
