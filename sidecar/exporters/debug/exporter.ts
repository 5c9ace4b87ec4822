// The `debug` exporter writes what arrives to stdout (logs go to stderr), so `npm start` shows
// spans arriving. Sampling bounds output per second, as in the collector.
//
// Rendering spans decodes the batch. Receivers validate what they accept, so decoding should
// never fail; if it does (a processor's bug), the batch still gets its summary line, the failure
// is counted as failed spans and warned about once, and the caller gets a rejected promise: never
// a throw, which from a batch processor's timer would take the process down.
import type { CreateSettings, Exporter, TracesConsumer, OpaqueConsumer } from '../../component/component.ts';
import { PermanentError } from '../../component/errors.ts';
import type { OpaqueData, TracesData } from '../../pdata/traces.ts';
import { OnceWarning } from '../../telemetry/logger.ts';
import type { BoundCounter } from '../../telemetry/metrics.ts';
import type { DebugExporterConfig } from './config.ts';
import { formatSpanLines } from './format.ts';

export type WriteLine = (text: string) => void;

export class DebugExporter implements Exporter, TracesConsumer, OpaqueConsumer {
  readonly traces: TracesConsumer = this;
  readonly metrics: OpaqueConsumer = this;
  readonly logs: OpaqueConsumer = this;
  private readonly cfg: DebugExporterConfig;
  private readonly write: WriteLine;
  private readonly failed: BoundCounter;
  private readonly undecodable: OnceWarning;
  private windowStart = 0;
  private inWindow = 0;

  constructor(settings: CreateSettings, cfg: DebugExporterConfig, write: WriteLine = (t) => process.stdout.write(t)) {
    this.cfg = cfg;
    this.write = write;
    // The collector's name for spans an exporter could not send, as every exporter here counts them.
    this.failed = settings.metrics
      .counter('otelcol_exporter_send_failed_spans_total', 'Number of spans in failed attempts to send to destination.')
      .bind({ exporter: settings.id });
    this.undecodable = new OnceWarning(settings.logger.child({ exporter: settings.id }), 'debug exporter could not decode a batch to print its spans; printed its summary instead');
  }

  private sampled(): boolean {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    this.inWindow++;
    if (this.inWindow <= this.cfg.sampling_initial) return true;
    return (this.inWindow - this.cfg.sampling_initial) % this.cfg.sampling_thereafter === 0;
  }

  consumeTraces(data: TracesData): Promise<void> {
    if (this.cfg.verbosity === 'basic' || !this.sampled()) {
      this.write(summary(data));
      return Promise.resolve();
    }
    let lines: string[];
    try {
      lines = formatSpanLines(data.toObjects(), this.cfg.verbosity === 'detailed');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.failed.add(data.spanCount);
      this.undecodable.warn({ err: message, spans: data.spanCount, bytes: data.byteLength });
      this.write(summary(data));
      return Promise.reject(new PermanentError(`debug exporter: batch does not decode: ${message}`, { cause: err }));
    }
    this.undecodable.reset();
    this.write(`${lines.join('\n')}\n`);
    return Promise.resolve();
  }

  consumeOpaque(data: OpaqueData): Promise<void> {
    this.write(`${data.signal} request bytes=${data.bytes.length}\n`);
    return Promise.resolve();
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function summary(data: TracesData): string {
  return `traces batch spans=${data.spanCount} bytes=${data.byteLength}\n`;
}
