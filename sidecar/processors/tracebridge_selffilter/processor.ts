// Drops spans that a mesh proxy recorded for the sidecar's own export calls: an exporter's
// request leaves the pod through Envoy, which (sampling permitting) records a CLIENT span tagged
// with the request's User-Agent, `tracebridge/<version> (<exporter>)`. Exported again, each such
// span would cause another export and another span. Linkerd records spans only for requests that
// arrive with a sampled trace context, and exporters send none, so Linkerd produces nothing to drop.
//
// Cost on the hot path: one native Buffer.indexOf for the prefix over the batch; only a batch that
// contains the prefix somewhere is walked span by span and re-framed without the matching spans.
import { bufferView } from '../../pdata/buffer-view.ts';
import type { CreateSettings, Processor, TracesConsumer } from '../../component/component.ts';
import { filterSpans } from '../../pdata/splice.ts';
import { TracesData } from '../../pdata/traces.ts';
import { WIRE_LEN, WireReader } from '../../pdata/wire.ts';
import type { BoundCounter } from '../../telemetry/metrics.ts';
import type { SelfFilterConfig } from './config.ts';

const TAG_SPAN_ATTRIBUTE = (9 << 3) | WIRE_LEN;
const TAG_KV_KEY = (1 << 3) | WIRE_LEN;
const TAG_KV_VALUE = (2 << 3) | WIRE_LEN;
const TAG_ANY_STRING = (1 << 3) | WIRE_LEN;

export class SelfFilterProcessor implements Processor {
  readonly mutatesData = false;
  private readonly next: TracesConsumer;
  private readonly enabled: boolean;
  private readonly keys: Buffer[];
  private readonly prefix: Buffer;
  private readonly dropped: BoundCounter;

  constructor(settings: CreateSettings, cfg: SelfFilterConfig, next: TracesConsumer) {
    this.next = next;
    this.enabled = cfg.enabled;
    this.keys = cfg.attributes.map((k) => Buffer.from(k, 'utf8'));
    this.prefix = Buffer.from(cfg.user_agent_prefix, 'utf8');
    this.dropped = settings.metrics
      .counter('tracebridge_selffilter_dropped_spans_total', "Spans dropped because a mesh proxy recorded them for the sidecar's own export requests.")
      .bind({ processor: settings.id, pipeline: settings.pipeline ?? '' });
  }

  consumeTraces(data: TracesData): Promise<void> {
    if (!this.enabled) return this.next.consumeTraces(data);
    const buf = bufferView(data.bytes);
    if (buf.indexOf(this.prefix) === -1) return this.next.consumeTraces(data);
    const out = filterSpans(buf, (start, end) => this.isSelfSpan(buf, start, end));
    if (out === undefined) return this.next.consumeTraces(data);
    this.dropped.add(out.dropped);
    const left = data.spanCount - out.dropped;
    if (left === 0) return Promise.resolve();
    return this.next.consumeTraces(TracesData.trusted(out.bytes, left));
  }

  /** True when one of the user-agent attributes holds a string starting with the prefix. */
  private isSelfSpan(buf: Buffer, start: number, end: number): boolean {
    const r = new WireReader(buf, start, end);
    while (r.pos < end) {
      const tag = r.tag();
      if (tag !== TAG_SPAN_ATTRIBUTE) {
        r.skip(tag & 7);
        continue;
      }
      const kvEnd = r.lenEnd();
      if (this.matches(buf, r.pos, kvEnd)) return true;
      r.pos = kvEnd;
    }
    return false;
  }

  private matches(buf: Buffer, start: number, end: number): boolean {
    const r = new WireReader(buf, start, end);
    let keyMatches = false;
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === TAG_KV_KEY) {
        const e = r.lenEnd();
        keyMatches = this.keys.some((k) => k.length === e - r.pos && buf.compare(k, 0, k.length, r.pos, e) === 0);
        if (!keyMatches) return false;
        r.pos = e;
      } else if (tag === TAG_KV_VALUE && keyMatches) {
        const valueEnd = r.lenEnd();
        const v = new WireReader(buf, r.pos, valueEnd);
        while (v.pos < valueEnd) {
          const vt = v.tag();
          if (vt !== TAG_ANY_STRING) {
            v.skip(vt & 7);
            continue;
          }
          const se = v.lenEnd();
          const p = this.prefix;
          return se - v.pos >= p.length && buf.compare(p, 0, p.length, v.pos, v.pos + p.length) === 0;
        }
        return false;
      } else {
        r.skip(tag & 7);
      }
    }
    return false;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
