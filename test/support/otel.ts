// A real OpenTelemetry JS SDK tracer wired to a given span exporter, as an app would have it.
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Tracer } from '@opentelemetry/api';

export interface TestApp {
  tracer: Tracer;
  provider: TracerProvider;
  flush(): Promise<void>;
}

export function testApp(exporter: SpanExporter, serviceName = 'checkout'): TestApp {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  return { tracer: provider.getTracer('test-app', '1.0.0'), provider, flush: () => provider.forceFlush() };
}
