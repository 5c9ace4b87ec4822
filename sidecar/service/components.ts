// Every component type the sidecar knows, by kind. Factories are light (config schema plus a
// create function that imports the implementation on demand), so idle memory only pays for what
// the config uses.
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
import { loadBalancingExporterFactory } from '../exporters/loadbalancing/factory.ts';
import { awsxrayExporterFactory } from '../exporters/awsxray/factory.ts';
import { sigv4authFactory } from '../extensions/sigv4auth/factory.ts';
import { headerBridgeFactory } from '../extensions/header_bridge/factory.ts';
import { memoryLimiterFactory } from '../processors/memory_limiter/factory.ts';
import { resourceDetectionFactory } from '../processors/resourcedetection/factory.ts';
import { selfFilterFactory } from '../processors/tracebridge_selffilter/factory.ts';
import { probabilisticSamplerFactory } from '../processors/probabilistic_sampler/factory.ts';
import { filterProcessorFactory } from '../processors/filter/factory.ts';
import { attributesProcessorFactory } from '../processors/attributes/factory.ts';
import { resourceProcessorFactory } from '../processors/resource/factory.ts';

export interface ComponentRegistry {
  receiver: ReadonlyMap<string, ReceiverFactory>;
  processor: ReadonlyMap<string, ProcessorFactory>;
  exporter: ReadonlyMap<string, ExporterFactory>;
  extension: ReadonlyMap<string, ExtensionFactory>;
}

function byType<F extends { type: string }>(list: F[]): ReadonlyMap<string, F> {
  return new Map(list.map((f) => [f.type, f]));
}

export const components: ComponentRegistry = {
  receiver: byType<ReceiverFactory>([otlpReceiverFactory, zipkinReceiverFactory, awsXrayReceiverFactory]),
  processor: byType<ProcessorFactory>([memoryLimiterFactory, resourceDetectionFactory, selfFilterFactory, tracecontextProcessorFactory, batchProcessorFactory, probabilisticSamplerFactory, filterProcessorFactory, attributesProcessorFactory, resourceProcessorFactory]),
  exporter: byType<ExporterFactory>([debugExporterFactory, otlpExporterFactory, otlphttpExporterFactory, awsxrayExporterFactory, loadBalancingExporterFactory]),
  extension: byType<ExtensionFactory>([healthCheckFactory, sigv4authFactory, headerBridgeFactory]),
};

export const SECTION: Record<Kind, 'receivers' | 'processors' | 'exporters' | 'extensions'> = {
  receiver: 'receivers',
  processor: 'processors',
  exporter: 'exporters',
  extension: 'extensions',
};
