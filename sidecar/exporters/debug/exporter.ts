// The `debug` exporter writes what arrives to stdout (logs go to stderr), so `npm start` shows
// spans arriving. Sampling bounds output per second, as in the collector.
import type { Exporter, TracesConsumer, OpaqueConsumer } from '../../component/component.ts';
import type { OpaqueData, TracesData } from '../../pdata/traces.ts';
import type { DebugExporterConfig } from './config.ts';
import { formatSpanLines } from './format.ts';

export type WriteLine = (text: string) => void;

export class DebugExporter implements Exporter, TracesConsumer, OpaqueConsumer {
  readonly traces: TracesConsumer = this;
  readonly metrics: OpaqueConsumer = this;
  readonly logs: OpaqueConsumer = this;
  private readonly cfg: DebugExporterConfig;
  private readonly write: WriteLine;
  private windowStart = 0;
  private inWindow = 0;

  constructor(cfg: DebugExporterConfig, write: WriteLine = (t) => process.stdout.write(t)) {
    this.cfg = cfg;
    this.write = write;
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
      this.write(`traces batch spans=${data.spanCount} bytes=${data.byteLength}\n`);
      return Promise.resolve();
    }
    const lines = formatSpanLines(data.toObjects(), this.cfg.verbosity === 'detailed');
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
