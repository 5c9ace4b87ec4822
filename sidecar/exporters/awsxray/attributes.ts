// Attribute access for the mapping. One Map per span (built once, O(attributes)), plus a set of
// the keys a section (http, aws, sql, cause) has turned into document fields: what is left over
// becomes metadata, as the collector passes its progressively filtered map along
// (segment.go: makeHTTP → makeCause → makeAws → makeSQL → makeXRayAttributes).
import type { AnyValue, KeyValue } from '../../pdata/otlp-schema.ts';
import { jsonInt, type RawJsonNumber } from './document.ts';

export class SpanAttributes {
  readonly all: ReadonlyMap<string, AnyValue>;
  /** Keys mapped into document fields: not repeated as metadata. */
  readonly consumed = new Set<string>();

  constructor(list: readonly KeyValue[] | undefined) {
    const m = new Map<string, AnyValue>();
    if (list !== undefined) for (const kv of list) if (kv.value !== undefined) m.set(kv.key, kv.value);
    this.all = m;
  }

  get(key: string): AnyValue | undefined {
    return this.all.get(key);
  }

  has(key: string): boolean {
    return this.all.has(key);
  }

  /** The attribute as text (see `asText`), marking it consumed when present. */
  take(key: string): string | undefined {
    const v = this.all.get(key);
    if (v === undefined) return undefined;
    this.consumed.add(key);
    return asText(v);
  }

  /** The attribute as an integer (see `asInt`), marking it consumed when present. */
  takeInt(key: string): number | undefined {
    const v = this.all.get(key);
    if (v === undefined) return undefined;
    this.consumed.add(key);
    return asInt(v);
  }

  text(key: string): string | undefined {
    const v = this.all.get(key);
    return v === undefined ? undefined : asText(v);
  }
}

/**
 * A scalar as text. The collector's `Str()` gives "" for non-strings; numbers and booleans are
 * written out here instead, because Zipkin tags arrive as strings and SDKs differ in types.
 */
export function asText(v: AnyValue): string | undefined {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  if (v.boolValue !== undefined) return String(v.boolValue);
  return undefined;
}

/** An integer attribute; a decimal string counts (Zipkin tags are strings). */
export function asInt(v: AnyValue): number | undefined {
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number.isInteger(v.doubleValue) ? v.doubleValue : undefined;
  if (v.stringValue !== undefined && /^-?\d{1,15}$/.test(v.stringValue)) return Number(v.stringValue);
  return undefined;
}

/** A list of strings from an array attribute, or from one string split on `&` (OTEL_RESOURCE_ATTRIBUTES). */
export function asStringList(v: AnyValue, separator?: string): string[] {
  if (v.arrayValue !== undefined) {
    const out: string[] = [];
    for (const item of v.arrayValue.values ?? []) {
      const t = asText(item);
      if (t !== undefined) out.push(t);
    }
    return out;
  }
  const t = asText(v);
  if (t === undefined) return [];
  return separator === undefined ? [t] : t.split(separator).filter((s) => s !== '');
}

/** An annotation value: X-Ray indexes strings, numbers and booleans only. */
export function annotationValue(v: AnyValue): string | number | boolean | RawJsonNumber | undefined {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return jsonInt(v.intValue);
  if (v.doubleValue !== undefined) return Number.isFinite(v.doubleValue) ? v.doubleValue : String(v.doubleValue);
  if (v.boolValue !== undefined) return v.boolValue;
  return undefined;
}

/** Any attribute value as JSON, as pcommon's AsRaw: lists, maps, bytes as base64. */
export function rawValue(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return jsonInt(v.intValue);
  // JSON has no NaN or Infinity; Go's encoder fails the whole document on them, here they become text.
  if (v.doubleValue !== undefined) return Number.isFinite(v.doubleValue) ? v.doubleValue : String(v.doubleValue);
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(rawValue);
  if (v.kvlistValue !== undefined) {
    const out: Record<string, unknown> = {};
    for (const kv of v.kvlistValue.values ?? []) out[kv.key] = kv.value === undefined ? null : rawValue(kv.value);
    return out;
  }
  if (v.bytesValue !== undefined) return Buffer.from(v.bytesValue.buffer, v.bytesValue.byteOffset, v.bytesValue.byteLength).toString('base64');
  return null;
}

/** A resource's attributes as a Map (built once per resource, shared by its spans). */
export function attributeMap(list: readonly KeyValue[] | undefined): ReadonlyMap<string, AnyValue> {
  const m = new Map<string, AnyValue>();
  if (list !== undefined) for (const kv of list) if (kv.value !== undefined) m.set(kv.key, kv.value);
  return m;
}
