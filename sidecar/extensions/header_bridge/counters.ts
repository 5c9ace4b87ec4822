// The bridge's counters live in a SharedArrayBuffer: the proxy worker adds with Atomics, the main
// thread reads and folds the deltas into the service's MetricsRegistry. No message per request
// crosses threads, and neither side ever waits for the other (a paused main thread only delays
// the metrics, never the traffic).
//
// Cells are 32-bit and wrap: the reader takes deltas modulo 2^32, which is exact as long as fewer
// than 4 billion events happen between two reads (reads are every second).
import type { Labels } from '../../telemetry/metrics.ts';

interface CounterSpec {
  name: string;
  help: string;
  labels: Labels;
}

const REQUESTS = 'tracebridge_header_bridge_requests_total';
const REQUESTS_HELP = 'Requests received by the header bridge, by listener mode (forward proxy, reverse proxy, CONNECT tunnel).';
const TRANSLATIONS = 'tracebridge_header_bridge_translations_total';
const TRANSLATIONS_HELP =
  'Requests whose trace context the bridge changed: derived (a missing format written), conflict_resolved (disagreeing formats rewritten from the primary), started (new trace).';
const MALFORMED = 'tracebridge_header_bridge_malformed_headers_dropped_total';
const MALFORMED_HELP = 'Malformed propagation headers removed before forwarding, by format.';
const UPSTREAM = 'tracebridge_header_bridge_upstream_errors_total';
const UPSTREAM_HELP = 'Requests and tunnels that failed upstream (answered 502/504 or cut), by reason.';
const REFUSED = 'tracebridge_header_bridge_refused_requests_total';
const REFUSED_HELP = 'Requests and connections the bridge refused, by reason.';

/** Order is the wire layout shared by both threads: append only. */
export const COUNTER_SPECS = [
  { name: REQUESTS, help: REQUESTS_HELP, labels: { mode: 'forward' } },
  { name: REQUESTS, help: REQUESTS_HELP, labels: { mode: 'reverse' } },
  { name: REQUESTS, help: REQUESTS_HELP, labels: { mode: 'tunnel' } },
  { name: TRANSLATIONS, help: TRANSLATIONS_HELP, labels: { translation: 'derived' } },
  { name: TRANSLATIONS, help: TRANSLATIONS_HELP, labels: { translation: 'conflict_resolved' } },
  { name: TRANSLATIONS, help: TRANSLATIONS_HELP, labels: { translation: 'started' } },
  { name: MALFORMED, help: MALFORMED_HELP, labels: { format: 'traceparent' } },
  { name: MALFORMED, help: MALFORMED_HELP, labels: { format: 'xray' } },
  { name: MALFORMED, help: MALFORMED_HELP, labels: { format: 'b3' } },
  { name: UPSTREAM, help: UPSTREAM_HELP, labels: { reason: 'connect_refused' } },
  { name: UPSTREAM, help: UPSTREAM_HELP, labels: { reason: 'reset' } },
  { name: UPSTREAM, help: UPSTREAM_HELP, labels: { reason: 'timeout' } },
  { name: UPSTREAM, help: UPSTREAM_HELP, labels: { reason: 'dns' } },
  { name: UPSTREAM, help: UPSTREAM_HELP, labels: { reason: 'unreachable' } },
  { name: UPSTREAM, help: UPSTREAM_HELP, labels: { reason: 'other' } },
  { name: REFUSED, help: REFUSED_HELP, labels: { reason: 'non_loopback' } },
  { name: REFUSED, help: REFUSED_HELP, labels: { reason: 'loop' } },
  { name: REFUSED, help: REFUSED_HELP, labels: { reason: 'bad_request' } },
  { name: REFUSED, help: REFUSED_HELP, labels: { reason: 'max_connections' } },
] as const satisfies readonly CounterSpec[];

type Spec = (typeof COUNTER_SPECS)[number];
type LabelValue<S> = S extends { labels: infer L } ? L[keyof L] : never;
type KeyOf<S extends Spec> = `${S['name']}:${LabelValue<S> & string}`;
export type CounterKey = KeyOf<Spec>;

export function counterKey(spec: CounterSpec): string {
  return `${spec.name}:${Object.values(spec.labels)[0] ?? ''}`;
}

const INDEX = new Map<string, number>(COUNTER_SPECS.map((s, i) => [counterKey(s), i]));

export function newCounterBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(COUNTER_SPECS.length * Uint32Array.BYTES_PER_ELEMENT);
}

/** The worker's side: increments by key, resolved to a cell once. */
export class CounterCells {
  private readonly cells: Uint32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.cells = new Uint32Array(buffer);
  }

  /** A bound incrementer, for keys used on every request. */
  bind(key: CounterKey): () => void {
    const i = INDEX.get(key)!;
    const cells = this.cells;
    return () => void Atomics.add(cells, i, 1);
  }

  add(key: CounterKey): void {
    Atomics.add(this.cells, INDEX.get(key)!, 1);
  }
}

/** The main thread's side: deltas since the previous read, modulo 2^32. */
export class CounterReader {
  private readonly cells: Uint32Array;
  private readonly last: Uint32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.cells = new Uint32Array(buffer);
    this.last = new Uint32Array(this.cells.length);
  }

  deltas(visit: (spec: CounterSpec, delta: number, index: number) => void): void {
    for (let i = 0; i < this.cells.length; i++) {
      const now = Atomics.load(this.cells, i);
      const delta = (now - this.last[i]!) >>> 0;
      this.last[i] = now;
      if (delta > 0) visit(COUNTER_SPECS[i]!, delta, i);
    }
  }
}
