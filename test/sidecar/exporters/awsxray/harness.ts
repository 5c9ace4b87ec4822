// An awsxray exporter built from YAML-shaped config, as the service builds it, with a metrics
// registry and a log capture to assert on.
import { Writable } from 'node:stream';
import type { Host } from '../../../../sidecar/component/component.ts';
import { ConfigErrors } from '../../../../sidecar/config/schema.ts';
import { awsxrayExporterConfig } from '../../../../sidecar/exporters/awsxray/config.ts';
import { AwsXRayExporter, type ExporterEnv } from '../../../../sidecar/exporters/awsxray/exporter.ts';
import type { ExportTraceServiceRequest, Span } from '../../../../sidecar/pdata/otlp-schema.ts';
import { SpanKind } from '../../../../sidecar/pdata/otlp-schema.ts';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';
import { createLogger } from '../../../../sidecar/telemetry/logger.ts';
import { MetricsRegistry } from '../../../../sidecar/telemetry/metrics.ts';
import { keyValues } from './fixtures.ts';

export interface Harness {
  exporter: AwsXRayExporter;
  metrics: MetricsRegistry;
  logs: Record<string, unknown>[];
  /** A counter's value for label exporter=awsxray (plus extra labels). */
  counter(name: string, labels?: Record<string, string>): number;
}

export const host: Host = { getExtension: () => undefined, status: 'running', startedAt: new Date() };

/** Fast retries for tests; the queue off so consumeTraces resolves with the final outcome. */
export const FAST = {
  sending_queue: { enabled: false },
  retry_on_failure: { initial_interval: '10ms', max_interval: '20ms', max_elapsed_time: '5s', randomization_factor: 0 },
};

export async function startExporter(raw: Record<string, unknown>, env: ExporterEnv = {}): Promise<Harness> {
  const errors = new ConfigErrors();
  const cfg = awsxrayExporterConfig.decode({ ...FAST, ...raw }, 'exporters.awsxray', errors);
  if (errors.any()) throw new Error(errors.list().join('\n'));
  const metrics = new MetricsRegistry();
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const exporter = new AwsXRayExporter({ id: 'awsxray', kind: 'exporter', logger: createLogger('info', sink), metrics }, cfg, env);
  await exporter.start(host);
  return {
    exporter,
    metrics,
    logs,
    counter: (name, labels = {}) => metrics.counter(name, '').get({ exporter: 'awsxray', ...labels }),
  };
}

let next = 1;

/** A trace ID that legacy X-Ray ingestion accepts now (first 4 bytes = the current epoch). */
export function validTraceHex(): string {
  return Math.floor(Date.now() / 1000).toString(16).padStart(8, '0') + '77b34da6a3ce929d0e0e4736';
}

/** `n` spans of one trace under one SERVER root (a legacy-valid trace ID unless `traceHex` is given). */
export function traceRequest(n: number, opts: { traceHex?: string; attrs?: Record<string, unknown> } = {}): ExportTraceServiceRequest {
  const traceId = Buffer.from(opts.traceHex ?? validTraceHex(), 'hex');
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans: Span[] = [];
  const root = Buffer.alloc(8);
  root.writeUInt32BE(next++, 4);
  for (let i = 0; i < n; i++) {
    const id = i === 0 ? root : Buffer.alloc(8);
    if (i > 0) id.writeUInt32BE(next++, 4);
    spans.push({
      traceId,
      spanId: id,
      parentSpanId: i === 0 ? undefined : root,
      name: i === 0 ? 'GET /' : `step ${i}`,
      kind: i === 0 ? SpanKind.SERVER : SpanKind.INTERNAL,
      startTimeUnixNano: now,
      endTimeUnixNano: now + 1_000_000n,
      attributes: keyValues(opts.attrs),
    });
  }
  return { resourceSpans: [{ resource: { attributes: keyValues({ 'service.name': 'checkout' }) }, scopeSpans: [{ spans }] }] };
}

export function tracesData(req: ExportTraceServiceRequest): TracesData {
  return TracesData.fromObjects(req);
}
