// What conditions read from a span, span event, resource and scope, filled in one pass over the
// element's bytes: the fields the compiled conditions use (others are skipped by their length
// prefix) and, for attributes, only the keys the conditions name (values located, not decoded).
// A resource or scope is read once for all the spans under it.
import {
  TAG_EVENT_ATTRIBUTES,
  TAG_EVENT_NAME,
  TAG_EVENT_TIME,
  TAG_RESOURCE_ATTRIBUTES,
  TAG_SCOPE_ATTRIBUTES,
  TAG_SCOPE_NAME,
  TAG_SCOPE_VERSION,
  TAG_SPAN_ATTRIBUTES,
  TAG_SPAN_END_TIME,
  TAG_SPAN_KIND,
  TAG_SPAN_NAME,
  TAG_SPAN_PARENT_SPAN_ID,
  TAG_SPAN_SPAN_ID,
  TAG_SPAN_START_TIME,
  TAG_SPAN_STATUS,
  TAG_SPAN_TRACE_ID,
  TAG_SPAN_TRACE_STATE,
  TAG_STATUS_CODE,
  TAG_STATUS_MESSAGE,
} from '../../../pdata/fields.ts';
import { ANY_STRING, AnyValueSlot, KV_KEY_END, KV_KEY_START, KV_VALUE_END, KV_VALUE_START, locateKeyValue, readAnyValue } from '../../../pdata/anyvalue.ts';
import { WireReader } from '../../../pdata/wire.ts';

/** Attribute keys a set of conditions reads from one kind of element, as UTF-8 bytes. */
export class KeyTable {
  readonly keys: Uint8Array[] = [];
  private readonly byName = new Map<string, number>();
  /** Key indexes by key length: most attribute keys are rejected by one array read. */
  private byLength: number[][] = [];

  /** Index of `key`, added when new. */
  add(key: string): number {
    let i = this.byName.get(key);
    if (i === undefined) {
      i = this.keys.length;
      const bytes = Buffer.from(key, 'utf8');
      this.keys.push(bytes);
      this.byName.set(key, i);
      while (this.byLength.length <= bytes.length) this.byLength.push([]);
      this.byLength[bytes.length]!.push(i);
    }
    return i;
  }

  get size(): number {
    return this.keys.length;
  }

  /** Index of the key whose bytes are buf[start, end), or -1. */
  find(buf: Uint8Array, start: number, end: number): number {
    const n = end - start;
    if (n >= this.byLength.length) return -1;
    const candidates = this.byLength[n]!;
    outer: for (let c = 0; c < candidates.length; c++) {
      const k = candidates[c]!;
      const key = this.keys[k]!;
      for (let i = n - 1; i >= 0; i--) if (buf[start + i] !== key[i]) continue outer;
      return k;
    }
    return -1;
  }
}

/** Attribute slots of one element: slot k holds key k's value (ANY_EMPTY and !found when absent). */
export class AttributeSlots {
  readonly slots: AnyValueSlot[];
  readonly found: Uint8Array;
  readonly table: KeyTable;

  constructor(table: KeyTable) {
    this.table = table;
    this.slots = table.keys.map(() => new AnyValueSlot());
    this.found = new Uint8Array(table.size);
  }

  reset(): void {
    this.found.fill(0);
  }

  /** Reads the KeyValue payload at [start, end) when its key is wanted and not yet seen (first key wins). */
  offer(buf: Uint8Array, start: number, end: number): void {
    // Fast path for the layout every encoder writes, { key (one-byte length), value } and nothing
    // else: the key is found without a cursor. It saves most of the per-attribute cost, which is
    // most of this processor's cost on attribute-heavy spans (bench/filter.ts).
    if (buf[start] === 0x0a && buf[start + 1]! < 0x80) {
      const ks = start + 2;
      const ke = ks + buf[start + 1]!;
      if (ke < end && buf[ke] === 0x12) {
        let pos = ke + 1;
        let len = 0;
        let shift = 1;
        let b: number;
        do {
          b = buf[pos++]!;
          len += (b & 0x7f) * shift;
          shift *= 128;
        } while (b >= 0x80 && pos < end);
        if (b < 0x80 && pos + len === end) {
          const k = this.table.find(buf, ks, ke);
          if (k === -1 || this.found[k] === 1) return;
          this.found[k] = 1;
          readAnyValue(buf, pos, end, this.slots[k]!);
          return;
        }
      }
    }
    this.offerSlow(buf, start, end);
  }

  private offerSlow(buf: Uint8Array, start: number, end: number): void {
    locateKeyValue(new WireReader(buf, start, end), start, end, kvParts);
    const k = this.table.find(buf, kvParts[KV_KEY_START]!, kvParts[KV_KEY_END]!);
    if (k === -1 || this.found[k] === 1) return;
    this.found[k] = 1;
    readAnyValue(buf, kvParts[KV_VALUE_START]!, kvParts[KV_VALUE_END]!, this.slots[k]!);
  }
}

// locateKeyValue's output (reading is synchronous).
const kvParts = new Int32Array(5);

function setString(slot: AnyValueSlot, start: number, end: number): void {
  slot.kind = ANY_STRING;
  slot.start = start;
  slot.end = end;
}

function emptyString(slot: AnyValueSlot): void {
  // pdata reads an absent string field as "" (proto3 default).
  slot.kind = ANY_STRING;
  slot.start = slot.end = 0;
}

export class SpanRecord {
  readonly name = new AnyValueSlot();
  readonly statusMessage = new AnyValueSlot();
  readonly traceState = new AnyValueSlot();
  kind = 0;
  statusCode = 0;
  /** Ranges of the ID bytes (empty when absent). */
  traceIdStart = 0;
  traceIdEnd = 0;
  spanIdStart = 0;
  spanIdEnd = 0;
  parentStart = 0;
  parentEnd = 0;
  /** Offsets of the fixed64 times, or -1. */
  startTime = -1;
  endTime = -1;
  readonly attrs: AttributeSlots;
  /** Whether attributes need reading at all, and whether status needs its payload walked. */
  private readonly readAttrs: boolean;

  constructor(keys: KeyTable) {
    this.attrs = new AttributeSlots(keys);
    this.readAttrs = keys.size > 0;
  }

  read(buf: Uint8Array, start: number, end: number): void {
    emptyString(this.name);
    emptyString(this.statusMessage);
    emptyString(this.traceState);
    this.kind = this.statusCode = 0;
    this.traceIdStart = this.traceIdEnd = this.spanIdStart = this.spanIdEnd = this.parentStart = this.parentEnd = 0;
    this.startTime = this.endTime = -1;
    this.attrs.reset();
    const r = new WireReader(buf, start, end);
    while (r.pos < end) {
      const tag = r.tag();
      switch (tag) {
        case TAG_SPAN_ATTRIBUTES: {
          const e = r.lenEnd();
          if (this.readAttrs) this.attrs.offer(buf, r.pos, e);
          r.pos = e;
          break;
        }
        case TAG_SPAN_NAME:
        case TAG_SPAN_TRACE_STATE:
        case TAG_SPAN_TRACE_ID:
        case TAG_SPAN_SPAN_ID:
        case TAG_SPAN_PARENT_SPAN_ID: {
          const e = r.lenEnd();
          if (tag === TAG_SPAN_NAME) setString(this.name, r.pos, e);
          else if (tag === TAG_SPAN_TRACE_STATE) setString(this.traceState, r.pos, e);
          else if (tag === TAG_SPAN_TRACE_ID) {
            this.traceIdStart = r.pos;
            this.traceIdEnd = e;
          } else if (tag === TAG_SPAN_SPAN_ID) {
            this.spanIdStart = r.pos;
            this.spanIdEnd = e;
          } else {
            this.parentStart = r.pos;
            this.parentEnd = e;
          }
          r.pos = e;
          break;
        }
        case TAG_SPAN_KIND:
          this.kind = r.varint();
          break;
        case TAG_SPAN_START_TIME:
          this.startTime = r.pos;
          r.advance(8);
          break;
        case TAG_SPAN_END_TIME:
          this.endTime = r.pos;
          r.advance(8);
          break;
        case TAG_SPAN_STATUS: {
          const e = r.lenEnd();
          this.readStatus(buf, r.pos, e);
          r.pos = e;
          break;
        }
        default:
          r.skip(tag & 7, tag >>> 3);
      }
    }
  }

  private readStatus(buf: Uint8Array, start: number, end: number): void {
    // A repeated message field merges: later fields win, absent ones keep earlier values.
    const r = new WireReader(buf, start, end);
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === TAG_STATUS_CODE) {
        this.statusCode = r.varint();
      } else if (tag === TAG_STATUS_MESSAGE) {
        const e = r.lenEnd();
        setString(this.statusMessage, r.pos, e);
        r.pos = e;
      } else {
        r.skip(tag & 7, tag >>> 3);
      }
    }
  }
}

export class EventRecord {
  readonly name = new AnyValueSlot();
  time = -1;
  readonly attrs: AttributeSlots;

  constructor(keys: KeyTable) {
    this.attrs = new AttributeSlots(keys);
  }

  read(buf: Uint8Array, start: number, end: number): void {
    emptyString(this.name);
    this.time = -1;
    this.attrs.reset();
    const r = new WireReader(buf, start, end);
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === TAG_EVENT_NAME || tag === TAG_EVENT_ATTRIBUTES) {
        const e = r.lenEnd();
        if (tag === TAG_EVENT_NAME) setString(this.name, r.pos, e);
        else if (this.attrs.table.size > 0) this.attrs.offer(buf, r.pos, e);
        r.pos = e;
      } else if (tag === TAG_EVENT_TIME) {
        this.time = r.pos;
        r.advance(8);
      } else {
        r.skip(tag & 7, tag >>> 3);
      }
    }
  }
}

/** A resource (attributes only) or an instrumentation scope (name, version, attributes). */
export class HolderRecord {
  readonly name = new AnyValueSlot();
  readonly version = new AnyValueSlot();
  readonly attrs: AttributeSlots;
  private readonly attributesTag: number;

  constructor(keys: KeyTable, kind: 'resource' | 'scope') {
    this.attrs = new AttributeSlots(keys);
    this.attributesTag = kind === 'resource' ? TAG_RESOURCE_ATTRIBUTES : TAG_SCOPE_ATTRIBUTES;
  }

  /** Reads the payload at [start, end) (-1, -1: the element is absent). */
  read(buf: Uint8Array, start: number, end: number): void {
    emptyString(this.name);
    emptyString(this.version);
    this.attrs.reset();
    if (start < 0) return;
    const r = new WireReader(buf, start, end);
    const isScope = this.attributesTag === TAG_SCOPE_ATTRIBUTES;
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === this.attributesTag) {
        const e = r.lenEnd();
        if (this.attrs.table.size > 0) this.attrs.offer(buf, r.pos, e);
        r.pos = e;
      } else if (isScope && (tag === TAG_SCOPE_NAME || tag === TAG_SCOPE_VERSION)) {
        const e = r.lenEnd();
        setString(tag === TAG_SCOPE_NAME ? this.name : this.version, r.pos, e);
        r.pos = e;
      } else {
        r.skip(tag & 7, tag >>> 3);
      }
    }
  }
}

/** Everything a condition can read, for the element being evaluated. */
export class EvalContext {
  /** A Buffer: strings are read with its native UTF-8 slice (no subarray object per string). */
  buf: Buffer = Buffer.alloc(0);
  readonly span: SpanRecord;
  readonly event: EventRecord;
  readonly resource: HolderRecord;
  readonly scope: HolderRecord;

  constructor(keys: ConditionKeys) {
    this.span = new SpanRecord(keys.span);
    this.event = new EventRecord(keys.event);
    this.resource = new HolderRecord(keys.resource, 'resource');
    this.scope = new HolderRecord(keys.scope, 'scope');
  }
}

/** Attribute keys named by all the conditions of one processor, per element kind. */
export interface ConditionKeys {
  span: KeyTable;
  event: KeyTable;
  resource: KeyTable;
  scope: KeyTable;
  /** Whether a condition reads the scope's name or version (its attributes are in `scope`). */
  scopeFields: boolean;
}

export function newConditionKeys(): ConditionKeys {
  return { span: new KeyTable(), event: new KeyTable(), resource: new KeyTable(), scope: new KeyTable(), scopeFields: false };
}
