// `annotations`, `metadata` and `user`, after the collector's addSpecialAttributes and
// makeXRayAttributes (segment.go):
// - attributes named in `indexed_attributes` (or all, with `index_all_attributes`) become
//   annotations when their value is a string, number or bool; keys cleaned (names.ts);
//   an indexed attribute that a section already turned into a field is indexed all the same;
// - the keys listed in the `aws.xray.annotations` attribute are indexed too;
// - the rest goes to metadata namespace `default`; `aws.xray.metadata.<ns>` attributes holding
//   JSON objects go to namespace <ns> (`default` merges);
// - segments (not subsegments) carry the resource as `otel.resource.<key>`, indexed by the same rules;
// - `enduser.id` becomes `user`;
// - tracebridge: the original-trace-ID attribute of the tracecontext rewrite is always indexed,
//   so users can search X-Ray by the ID their logs show.
// Deviation: a value that cannot be an annotation (list, map, bytes) stays in metadata (the
// collector drops it when it was to be indexed).
import type { AnyValue } from '../../pdata/otlp-schema.ts';
import { annotationValue, asText, rawValue, type SpanAttributes } from './attributes.ts';
import type { SegmentDocument } from './document.ts';
import { fixAnnotationKey } from './names.ts';

export const DEFAULT_METADATA_NAMESPACE = 'default';
export const ANNOTATIONS_LIST_ATTRIBUTE = 'aws.xray.annotations';
export const METADATA_ATTRIBUTE_PREFIX = 'aws.xray.metadata.';
export const RESOURCE_KEY_PREFIX = 'otel.resource.';

export interface IndexingOptions {
  indexed: ReadonlySet<string>;
  indexAll: boolean;
  /** Attribute always indexed when present (the tracecontext processor's original trace ID). */
  alwaysIndexed: string;
}

type Annotations = NonNullable<SegmentDocument['annotations']>;
type Metadata = NonNullable<SegmentDocument['metadata']>;

export interface AttributeFields {
  user?: string;
  annotations?: Annotations;
  metadata?: Metadata;
}

/** A resource attribute as segments carry it; prepared once per resource, shared by its spans. */
export interface ResourceEntry {
  key: string;
  value: AnyValue;
  raw: unknown;
}

export function resourceEntries(resource: ReadonlyMap<string, AnyValue>): ResourceEntry[] {
  const out: ResourceEntry[] = [];
  for (const [k, value] of resource) out.push({ key: RESOURCE_KEY_PREFIX + k, value, raw: rawValue(value) });
  return out;
}

export function makeAttributeFields(attrs: SpanAttributes, resource: readonly ResourceEntry[] | undefined, opts: IndexingOptions): AttributeFields {
  const out: AttributeFields = {};
  const annotations: Annotations = {};
  const defaults: Record<string, unknown> = {};
  const metadata: Metadata = {};
  let indexed = opts.indexed;

  const user = attrs.get('enduser.id');
  const extra = attrs.get(ANNOTATIONS_LIST_ATTRIBUTE);
  if (extra?.arrayValue !== undefined) {
    const more = new Set(indexed);
    for (const v of extra.arrayValue.values ?? []) if (v.stringValue !== undefined) more.add(v.stringValue);
    indexed = more;
  }

  const annotate = (key: string, value: AnyValue): boolean => {
    const a = annotationValue(value);
    if (a === undefined) return false;
    annotations[fixAnnotationKey(key)] = a;
    return true;
  };

  if (resource !== undefined) {
    for (const e of resource) {
      if ((opts.indexAll || indexed.has(e.key)) && annotate(e.key, e.value)) continue;
      if (e.raw !== null) defaults[e.key] = e.raw;
    }
  }

  for (const [key, value] of attrs.all) {
    if (key === 'enduser.id' || (key === ANNOTATIONS_LIST_ATTRIBUTE && extra?.arrayValue !== undefined)) continue;
    const named = indexed.has(key) || key === opts.alwaysIndexed;
    if (attrs.consumed.has(key)) {
      // A field already holds it; it comes back only to be indexed by name (addSpecialAttributes).
      if (named) annotate(key, value);
      continue;
    }
    if ((opts.indexAll || named) && annotate(key, value)) continue;
    if (key.startsWith(METADATA_ATTRIBUTE_PREFIX) && value.stringValue !== undefined) {
      const ns = key.slice(METADATA_ATTRIBUTE_PREFIX.length);
      const parsed = parseObject(value.stringValue);
      if (parsed === undefined) defaults[key] = value.stringValue;
      else if (ns.toLowerCase() === DEFAULT_METADATA_NAMESPACE) Object.assign(defaults, parsed);
      else metadata[ns] = parsed;
      continue;
    }
    const raw = rawValue(value);
    if (raw !== null) defaults[key] = raw;
  }

  if (user !== undefined) {
    const u = asText(user) ?? '';
    if (u !== '') out.user = u;
  }
  if (Object.keys(defaults).length > 0) metadata[DEFAULT_METADATA_NAMESPACE] = defaults;
  if (Object.keys(annotations).length > 0) out.annotations = annotations;
  if (Object.keys(metadata).length > 0) out.metadata = metadata;
  return out;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
