// Splits a batch into one part per backend by routing key, on the encoded bytes through the
// batch's view (no decode): the key of each span is hashed and looked up on the ring, and each
// backend's part keeps its spans with their resources and scopes (filterSpans re-frames them).
//   traceID    - the span's trace ID: every span of a trace goes to the same backend (tail
//                sampling, span metrics per trace). Spans without a trace ID share one backend.
//   service    - the resource's service.name value: a service's spans stay together.
//   resource   - the whole encoded resource: spans of the same resource stay together.
//   attributes - the values of `routing_attributes`, each looked up on the span, then on its
//                resource; spans lacking all of them share one backend.
import { TAG_KEY_VALUE_KEY, TAG_KEY_VALUE_VALUE, TAG_RESOURCE_ATTRIBUTES, TAG_SPAN_ATTRIBUTES } from '../../pdata/fields.ts';
import { filterSpans } from '../../pdata/splice.ts';
import { TracesData } from '../../pdata/traces.ts';
import type { TraceView } from '../../pdata/trace-view.ts';
import { WireReader } from '../../pdata/wire.ts';
import { hashBytes, type HashRing } from './ring.ts';

export type RoutingKey = 'traceID' | 'service' | 'resource' | 'attributes';

export interface Route {
  readonly endpoint: string;
  readonly data: TracesData;
}

const EMPTY = new Uint8Array(0);
const EMPTY_HASH = hashBytes(EMPTY);
const SERVICE_NAME = new TextEncoder().encode('service.name');

/** Hashes the routing key of every span of a batch; built once per exporter from its config. */
export class KeyHasher {
  private readonly key: RoutingKey;
  private readonly attributes: readonly Uint8Array[];

  constructor(key: RoutingKey, attributes: readonly string[] = []) {
    this.key = key;
    const enc = new TextEncoder();
    this.attributes = attributes.map((a) => enc.encode(a));
  }

  /** One hash per span of `data`. */
  hashes(data: TracesData): Uint32Array {
    const buf = data.bytes;
    const view = data.view;
    const out = new Uint32Array(view.spanCount);
    if (this.key === 'traceID') {
      for (let k = 0; k < out.length; k++) {
        const off = view.traceIdOffset(k);
        out[k] = off < 0 ? EMPTY_HASH : hashBytes(buf, off, off + 16);
      }
      return out;
    }
    if (this.key === 'attributes') {
      for (let k = 0; k < out.length; k++) out[k] = this.attributesHash(buf, view, k);
      return out;
    }
    // Per-resource keys: hashed once per ResourceSpans.
    const perResource = new Uint32Array(view.resourceSpansCount);
    for (let i = 0; i < perResource.length; i++) perResource[i] = this.resourceHash(buf, view, i);
    for (let k = 0; k < out.length; k++) out[k] = perResource[view.resourceSpansOf(view.scopeSpansOf(k))]!;
    return out;
  }

  private resourceHash(buf: Uint8Array, view: TraceView, i: number): number {
    const s = view.resourceStart(i);
    if (s < 0) return EMPTY_HASH;
    const e = view.resourceEnd(i);
    if (this.key === 'resource') return hashBytes(buf, s, e);
    const v = findAttribute(buf, s, e, TAG_RESOURCE_ATTRIBUTES, SERVICE_NAME);
    return v === undefined ? EMPTY_HASH : hashBytes(buf, v[0], v[1]);
  }

  private attributesHash(buf: Uint8Array, view: TraceView, k: number): number {
    const pieces: Uint8Array[] = [];
    const rs = view.resourceSpansOf(view.scopeSpansOf(k));
    for (const name of this.attributes) {
      const v =
        findAttribute(buf, view.spanStart(k), view.spanEnd(k), TAG_SPAN_ATTRIBUTES, name) ??
        (view.resourceStart(rs) < 0 ? undefined : findAttribute(buf, view.resourceStart(rs), view.resourceEnd(rs), TAG_RESOURCE_ATTRIBUTES, name));
      // A separator, so ("ab", "") and ("a", "b") are different keys.
      pieces.push(v === undefined ? EMPTY : buf.subarray(v[0], v[1]), SEPARATOR);
    }
    return hashBytes(Buffer.concat(pieces));
  }
}

const SEPARATOR = Uint8Array.of(0xff);

/**
 * The encoded AnyValue of the attribute `key` among the `attrTag` fields (repeated KeyValue) of the
 * message at [start, end), as [start, end); undefined when absent. The encoded value is the key
 * material: equal values encode equally whatever their type.
 */
function findAttribute(buf: Uint8Array, start: number, end: number, attrTag: number, key: Uint8Array): [number, number] | undefined {
  const r = new WireReader(buf, start, end);
  while (r.pos < end) {
    const tag = r.tag();
    if (tag !== attrTag) {
      r.skip(tag & 7, tag >>> 3);
      continue;
    }
    const kvEnd = r.lenEnd();
    const found = keyValue(buf, r.pos, kvEnd, key);
    if (found !== undefined) return found;
    r.pos = kvEnd;
  }
  return undefined;
}

function keyValue(buf: Uint8Array, start: number, end: number, key: Uint8Array): [number, number] | undefined {
  const r = new WireReader(buf, start, end);
  let matched = false;
  let value: [number, number] | undefined;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === TAG_KEY_VALUE_KEY) {
      const e = r.lenEnd();
      matched = equalBytes(buf, r.pos, e, key);
      r.pos = e;
    } else if (tag === TAG_KEY_VALUE_VALUE) {
      const e = r.lenEnd();
      value = [r.pos, e];
      r.pos = e;
    } else {
      r.skip(tag & 7, tag >>> 3);
    }
  }
  return matched ? (value ?? [end, end]) : undefined;
}

function equalBytes(buf: Uint8Array, start: number, end: number, want: Uint8Array): boolean {
  if (end - start !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (buf[start + i] !== want[i]) return false;
  return true;
}

/**
 * The parts of `data` for each backend owning some of its spans. A batch owned by one backend is
 * passed whole (no copy).
 */
export function route(data: TracesData, ring: HashRing, hasher: KeyHasher): Route[] {
  const hashes = hasher.hashes(data);
  const owners = new Int32Array(hashes.length);
  let first = -1;
  let mixed = false;
  for (let k = 0; k < hashes.length; k++) {
    const o = ring.ownerOf(hashes[k]!);
    owners[k] = o;
    if (first === -1) first = o;
    else if (o !== first) mixed = true;
  }
  if (!mixed) return first === -1 ? [] : [{ endpoint: ring.endpoints[first]!, data }];
  const present = [...new Set(owners)].sort((a, b) => a - b);
  return present.map((o) => {
    const part = filterSpans(data.bytes, data.view, (k) => owners[k] !== o);
    const bytes = part?.bytes ?? data.bytes;
    return { endpoint: ring.endpoints[o]!, data: TracesData.trusted(bytes, data.spanCount - (part?.dropped ?? 0)) };
  });
}
