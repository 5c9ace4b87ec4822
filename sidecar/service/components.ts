// Every component type the sidecar knows, by kind. Factories are light (config schema plus a
// create function that imports the implementation on demand), so idle memory only pays for what
// the config uses. The factories of components the embedded default never configures load when a
// config first names their type (LazyFactories): their config modules alone (OTTL parser, regex
// and hashing for filter/attributes, ...) cost an idle process about 2.6 MiB of private memory.
import { createRequire } from 'node:module';
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

const require = createRequire(import.meta.url);
// The compiled image runs .js files, tests the .ts sources: a module path's extension is this one's.
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/**
 * Factories known by type, the eager ones given, the others as [module path without extension,
 * export name] loaded synchronously (require of an ES module: the same instance `import` gives)
 * on the first get() of their type or on iteration. has() and keys() load nothing.
 */
class LazyFactories<F extends { type: string }> implements ReadonlyMap<string, F> {
  private readonly loaded: Map<string, F>;
  private readonly lazy: Map<string, readonly [string, string]>;
  constructor(eager: F[], lazy: Record<string, readonly [string, string]>) {
    this.loaded = new Map(eager.map((f) => [f.type, f]));
    this.lazy = new Map(Object.entries(lazy));
  }
  get size(): number {
    return this.loaded.size + this.lazy.size;
  }
  has(type: string): boolean {
    return this.loaded.has(type) || this.lazy.has(type);
  }
  get(type: string): F | undefined {
    const done = this.loaded.get(type);
    if (done !== undefined) return done;
    const where = this.lazy.get(type);
    if (where === undefined) return undefined;
    const factory = (require(where[0] + EXT) as Record<string, F>)[where[1]]!;
    this.lazy.delete(type);
    this.loaded.set(type, factory);
    return factory;
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
    probabilistic_sampler: ['../processors/probabilistic_sampler/factory', 'probabilisticSamplerFactory'],
    filter: ['../processors/filter/factory', 'filterProcessorFactory'],
    attributes: ['../processors/attributes/factory', 'attributesProcessorFactory'],
    resource: ['../processors/resource/factory', 'resourceProcessorFactory'],
  }),
  exporter: new LazyFactories<ExporterFactory>([debugExporterFactory, otlpExporterFactory, otlphttpExporterFactory], {
    awsxray: ['../exporters/awsxray/factory', 'awsxrayExporterFactory'],
    loadbalancing: ['../exporters/loadbalancing/factory', 'loadBalancingExporterFactory'],
  }),
  extension: new LazyFactories<ExtensionFactory>([healthCheckFactory], {
    sigv4auth: ['../extensions/sigv4auth/factory', 'sigv4authFactory'],
    header_bridge: ['../extensions/header_bridge/factory', 'headerBridgeFactory'],
  }),
};

export const SECTION: Record<Kind, 'receivers' | 'processors' | 'exporters' | 'extensions'> = {
  receiver: 'receivers',
  processor: 'processors',
  exporter: 'exporters',
  extension: 'extensions',
};
