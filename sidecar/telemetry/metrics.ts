// A small Prometheus registry: counters and gauges with labels, rendered in the text
// exposition format. prom-client would add ~2 MiB of heap and default collectors we do not
// want in a per-pod sidecar; the format is small enough to own.
//
// Names follow the collector's own exposition (OTel Go SDK Prometheus exporter): counters end
// in `_total`, e.g. `otelcol_receiver_accepted_spans_total{receiver="otlp",transport="grpc"}`,
// so collector dashboards and alerts work unchanged.

export type Labels = Readonly<Record<string, string>>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  keys.sort();
  return keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',');
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

interface Series {
  labels: string;
  value: number;
}

abstract class Metric {
  readonly name: string;
  readonly help: string;
  protected readonly series = new Map<string, Series>();

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  abstract readonly type: 'counter' | 'gauge';

  protected cell(labels: Labels): Series {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = { labels: key, value: 0 };
      this.series.set(key, s);
    }
    return s;
  }

  get(labels: Labels = {}): number {
    return this.series.get(labelKey(labels))?.value ?? 0;
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`);
    for (const s of this.series.values()) {
      out.push(s.labels === '' ? `${this.name} ${s.value}` : `${this.name}{${s.labels}} ${s.value}`);
    }
  }
}

/** A monotonically increasing count. `bind()` resolves the label set once, for hot paths. */
export class Counter extends Metric {
  readonly type = 'counter';

  add(n: number, labels: Labels = {}): void {
    if (n > 0) this.cell(labels).value += n;
  }

  bind(labels: Labels = {}): BoundCounter {
    const cell = this.cell(labels);
    return {
      add(n: number) {
        if (n > 0) cell.value += n;
      },
      get value() {
        return cell.value;
      },
    };
  }
}

export interface BoundCounter {
  add(n: number): void;
  readonly value: number;
}

export class Gauge extends Metric {
  readonly type = 'gauge';
  private readonly collectors: (() => void)[] = [];

  set(v: number, labels: Labels = {}): void {
    this.cell(labels).value = v;
  }

  /** Sample `read()` at scrape time. */
  collect(labels: Labels, read: () => number): void {
    this.collectors.push(() => this.set(read(), labels));
  }

  override render(out: string[]): void {
    for (const c of this.collectors) c();
    super.render(out);
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  counter(name: string, help: string): Counter {
    return this.getOrCreate(name, () => new Counter(name, help), Counter);
  }

  gauge(name: string, help: string): Gauge {
    return this.getOrCreate(name, () => new Gauge(name, help), Gauge);
  }

  private getOrCreate<M extends Metric>(name: string, make: () => M, kind: abstract new (...a: never[]) => M): M {
    const existing = this.metrics.get(name);
    if (existing !== undefined) {
      if (!(existing instanceof kind)) throw new Error(`metric ${name} registered twice with different types`);
      return existing;
    }
    const m = make();
    this.metrics.set(name, m);
    return m;
  }

  render(): string {
    const out: string[] = [];
    for (const m of this.metrics.values()) m.render(out);
    return `${out.join('\n')}\n`;
  }
}
