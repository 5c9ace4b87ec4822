// Adds the detected attributes to every resource, on the encoded bytes: the Resource of each
// ResourceSpans (found through the batch's view) is rewritten, its other fields and unknown fields
// copied as they are, and the length prefixes re-framed (pdata/splice.ts). No decode or re-encode
// of spans. Detected KeyValues are encoded once at start-up.
import type { CreateSettings, Processor, TracesConsumer } from '../../component/component.ts';
import { attributeKey } from '../../pdata/attributes.ts';
import { TAG_RESOURCE_ATTRIBUTES } from '../../pdata/fields.ts';
import { encodeStringKeyValue, lenField, rewriteResources } from '../../pdata/splice.ts';
import { TracesData } from '../../pdata/traces.ts';
import { WireReader } from '../../pdata/wire.ts';

export class ResourceDetectionProcessor implements Processor {
  // Rewriting builds new buffers; the input is never changed in place.
  readonly mutatesData = false;
  private readonly next: TracesConsumer;
  private readonly override: boolean;
  /** Encoded `Resource.attributes` fields (tag, length, KeyValue) by key. */
  private readonly fields: Map<string, Uint8Array>;

  constructor(_settings: CreateSettings, override: boolean, attributes: ReadonlyMap<string, string>, next: TracesConsumer) {
    this.next = next;
    this.override = override;
    this.fields = new Map();
    for (const [k, v] of attributes) {
      this.fields.set(k, lenField(TAG_RESOURCE_ATTRIBUTES, encodeStringKeyValue(k, v)));
    }
  }

  consumeTraces(data: TracesData): Promise<void> {
    if (this.fields.size === 0) return this.next.consumeTraces(data);
    const buf = data.bytes;
    const out = rewriteResources(buf, data.view, (start, end) => this.resource(buf, start, end));
    return this.next.consumeTraces(out === undefined ? data : TracesData.trusted(out, data.spanCount));
  }

  /** The new Resource payload, or undefined when it would not change. */
  private resource(buf: Uint8Array, start: number, end: number): Uint8Array | undefined {
    if (start === -1) return Buffer.concat([...this.fields.values()]);
    const parts: Uint8Array[] = [];
    const present = new Set<string>();
    const r = new WireReader(buf, start, end);
    while (r.pos < end) {
      const fieldStart = r.pos;
      const tag = r.tag();
      if (tag !== TAG_RESOURCE_ATTRIBUTES) {
        r.skip(tag & 7, tag >>> 3);
        parts.push(buf.subarray(fieldStart, r.pos));
        continue;
      }
      const kvEnd = r.lenEnd();
      const key = attributeKey(buf, r.pos, kvEnd);
      r.pos = kvEnd;
      if (key !== undefined && this.fields.has(key)) {
        present.add(key);
        if (this.override) continue;
      }
      parts.push(buf.subarray(fieldStart, kvEnd));
    }
    let added = 0;
    for (const [key, field] of this.fields) {
      if (this.override || !present.has(key)) {
        parts.push(field);
        added++;
      }
    }
    return added === 0 ? undefined : Buffer.concat(parts);
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
