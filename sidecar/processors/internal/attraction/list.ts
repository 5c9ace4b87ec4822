// The attributes of one span or resource, read in place from the wire form, with the edits the
// actions make to them, and the new message payload built from both. Untouched attributes and
// every other field of the message (unknown fields included) are copied as raw bytes; an edited
// attribute keeps its KeyValue's other fields and gets a new `value`; a new attribute is appended
// at the end of the message (repeated fields may come in any order). One instance is reused for
// every span of a batch: its tables grow, they are not reallocated per span.
import { bytesEqual, readAnyValue, type AnyValueSlot } from '../../../pdata/anyvalue.ts';
import { TAG_KEY_VALUE_KEY, TAG_KEY_VALUE_VALUE, TAG_SPAN_KIND, TAG_SPAN_NAME } from '../../../pdata/fields.ts';
import { encodeKeyValue, lenField, lenHeader } from '../../../pdata/splice.ts';
import { WireReader } from '../../../pdata/wire.ts';

const utf8 = new TextDecoder();
const EMPTY = new Uint8Array(0);

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return bytesEqual(a, 0, a.length, b);
}

export class AttrList {
  buf: Uint8Array = EMPTY;
  private start = 0;
  private end = 0;
  private attrTag = 0;
  /** Original attributes: field range (tag to end), KeyValue payload start, key bytes, AnyValue payload (-1: none). */
  private n = 0;
  private fs = new Int32Array(32);
  private fe = new Int32Array(32);
  private kvs = new Int32Array(32);
  private ks = new Int32Array(32);
  private ke = new Int32Array(32);
  private vs = new Int32Array(32);
  private ve = new Int32Array(32);
  private removed = new Uint8Array(32);
  private repl: (Uint8Array | undefined)[] = [];
  private keyCache: (string | undefined)[] = [];
  private readonly fieldCache = new WeakMap<Uint8Array, { key: Uint8Array; tag: number; field: Uint8Array }>();
  /** Attributes added by the actions. */
  private addKeys: Uint8Array[] = [];
  private addVals: Uint8Array[] = [];
  private addRemoved: boolean[] = [];
  /** True once an action changed something. */
  changed = false;
  /** A span's name (payload range, -1 when absent) and kind (0 when absent). */
  nameStart = -1;
  nameEnd = -1;
  kind = 0;

  /**
   * Reads the message payload at [start, end): its `attrTag` fields (KeyValues) and, for a span,
   * its name and kind. Input is validated data; broken framing throws WireFormatError.
   */
  load(buf: Uint8Array, start: number, end: number, attrTag: number, span: boolean): void {
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.attrTag = attrTag;
    this.n = 0;
    this.changed = false;
    this.nameStart = this.nameEnd = -1;
    this.kind = 0;
    if (this.addKeys.length > 0) {
      this.addKeys = [];
      this.addVals = [];
      this.addRemoved = [];
    }
    if (start < 0) return;
    const r = new WireReader(buf, start, end);
    // One reader for every KeyValue of the message (a reader per attribute showed in profiles).
    const kv = new WireReader(buf, start, start);
    while (r.pos < end) {
      const f = r.pos;
      const tag = r.tag();
      if (tag === attrTag) {
        const e = r.lenEnd();
        this.keyValue(kv, f, r.pos, e);
        r.pos = e;
      } else if (span && tag === TAG_SPAN_NAME) {
        const e = r.lenEnd();
        this.nameStart = r.pos;
        this.nameEnd = e;
        r.pos = e;
      } else if (span && tag === TAG_SPAN_KIND) {
        this.kind = r.varint32();
      } else {
        r.skip(tag & 7, tag >>> 3);
      }
    }
  }

  private keyValue(r: WireReader, fieldStart: number, s: number, e: number): void {
    if (this.n === this.fs.length) {
      this.fs = grow(this.fs);
      this.fe = grow(this.fe);
      this.kvs = grow(this.kvs);
      this.ks = grow(this.ks);
      this.ke = grow(this.ke);
      this.vs = grow(this.vs);
      this.ve = grow(this.ve);
      const rm = new Uint8Array(this.removed.length * 2);
      rm.set(this.removed);
      this.removed = rm;
    }
    const i = this.n++;
    this.fs[i] = fieldStart;
    this.fe[i] = e;
    this.kvs[i] = s;
    // No key field means the empty key; a repeated field's last occurrence wins. This is
    // pdata/anyvalue.ts's locateKeyValue written inline: calling it (ranges through an Int32Array)
    // cost about 10% on bench/attributes.ts's realistic rows, this being the per-attribute loop.
    this.ks[i] = this.ke[i] = s;
    this.vs[i] = this.ve[i] = -1;
    this.removed[i] = 0;
    this.repl[i] = undefined;
    this.keyCache[i] = undefined;
    r.pos = s;
    r.end = e;
    while (r.pos < e) {
      const t = r.tag();
      if (t === TAG_KEY_VALUE_KEY || t === TAG_KEY_VALUE_VALUE) {
        const le = r.lenEnd();
        if (t === TAG_KEY_VALUE_KEY) {
          this.ks[i] = r.pos;
          this.ke[i] = le;
        } else {
          this.vs[i] = r.pos;
          this.ve[i] = le;
        }
        r.pos = le;
      } else {
        r.skip(t & 7, t >>> 3);
      }
    }
  }

  /** Entries: originals 0..n-1, then added ones. */
  get size(): number {
    return this.n + this.addKeys.length;
  }

  live(i: number): boolean {
    return i < this.n ? this.removed[i] === 0 : !this.addRemoved[i - this.n]!;
  }

  keyEquals(i: number, key: Uint8Array): boolean {
    return i < this.n ? bytesEqual(this.buf, this.ks[i]!, this.ke[i]!, key) : sameBytes(this.addKeys[i - this.n]!, key);
  }

  /** The key as a string (decoded on first use; only pattern actions need it). */
  keyString(i: number): string {
    if (i >= this.n) return utf8.decode(this.addKeys[i - this.n]);
    return (this.keyCache[i] ??= utf8.decode(this.buf.subarray(this.ks[i], this.ke[i])));
  }

  /** The first live entry with this key (the collector's pcommon.Map.Get), or -1. */
  find(key: Uint8Array): number {
    const buf = this.buf;
    for (let i = 0; i < this.n; i++) {
      if (this.removed[i] === 0 && this.ke[i]! - this.ks[i]! === key.length && bytesEqual(buf, this.ks[i]!, this.ke[i]!, key)) return i;
    }
    for (let j = 0; j < this.addKeys.length; j++) if (!this.addRemoved[j] && sameBytes(this.addKeys[j]!, key)) return this.n + j;
    return -1;
  }

  /** The entry's AnyValue payload (shares memory with the batch for an original value). */
  value(i: number): Uint8Array {
    if (i >= this.n) return this.addVals[i - this.n]!;
    const r = this.repl[i];
    if (r !== undefined) return r;
    return this.vs[i]! < 0 ? EMPTY : this.buf.subarray(this.vs[i], this.ve[i]);
  }

  /** Reads the entry's value into `slot`; offsets are into the returned array. */
  readValue(i: number, slot: AnyValueSlot): Uint8Array {
    if (i < this.n && this.repl[i] === undefined) {
      if (this.vs[i]! < 0) {
        slot.kind = 0;
        slot.start = slot.end = -1;
      } else {
        readAnyValue(this.buf, this.vs[i]!, this.ve[i]!, slot);
      }
      return this.buf;
    }
    const v = this.value(i);
    readAnyValue(v, 0, v.length, slot);
    return v;
  }

  /** Gives entry `i` a new value (an AnyValue payload); the same bytes change nothing. */
  set(i: number, anyValue: Uint8Array): void {
    if (sameBytes(this.value(i), anyValue)) return;
    if (i < this.n) this.repl[i] = anyValue;
    else this.addVals[i - this.n] = anyValue;
    this.changed = true;
  }

  remove(i: number): void {
    if (i < this.n) this.removed[i] = 1;
    else this.addRemoved[i - this.n] = true;
    this.changed = true;
  }

  add(key: Uint8Array, anyValue: Uint8Array): void {
    this.addKeys.push(key);
    this.addVals.push(anyValue);
    this.addRemoved.push(false);
    this.changed = true;
  }

  /** Sets the first live entry with this key, or adds it (the collector's Map.Put*). */
  put(key: Uint8Array, anyValue: Uint8Array): void {
    const i = this.find(key);
    if (i >= 0) this.set(i, anyValue);
    else this.add(key, anyValue);
  }

  /**
   * The new message payload, as pieces: bytes between edited attributes are copied in runs, an
   * edited attribute is re-encoded, added attributes follow at the end.
   */
  emit(): Uint8Array[] {
    const parts: Uint8Array[] = [];
    const buf = this.buf;
    let pos = this.start < 0 ? 0 : this.start;
    for (let i = 0; i < this.n; i++) {
      const rm = this.removed[i] === 1;
      if (!rm && this.repl[i] === undefined) continue;
      if (this.fs[i]! > pos) parts.push(buf.subarray(pos, this.fs[i]));
      if (!rm) this.editedField(i, parts);
      pos = this.fe[i]!;
    }
    if (this.start >= 0 && this.end > pos) parts.push(buf.subarray(pos, this.end));
    for (let j = 0; j < this.addKeys.length; j++) {
      if (!this.addRemoved[j]) parts.push(this.addedField(this.addKeys[j]!, this.addVals[j]!));
    }
    return parts;
  }

  /**
   * The encoded field of an added attribute. A key and value from the config are the same arrays
   * for every span, so their field is encoded once and reused (per-span encoding showed in profiles).
   */
  private addedField(key: Uint8Array, value: Uint8Array): Uint8Array {
    const cached = this.fieldCache.get(value);
    if (cached !== undefined && cached.key === key && cached.tag === this.attrTag) return cached.field;
    const field = lenField(this.attrTag, encodeKeyValue(key, value));
    this.fieldCache.set(value, { key, tag: this.attrTag, field });
    return field;
  }

  /** An edited KeyValue, into `parts`: its fields other than `value` as they were, then the new value. */
  private editedField(i: number, parts: Uint8Array[]): void {
    const buf = this.buf;
    const e = this.fe[i]!;
    const value = this.repl[i]!;
    const header = parts.length;
    parts.push(EMPTY);
    let len = 0;
    const r = new WireReader(buf, this.kvs[i], e);
    while (r.pos < e) {
      const f = r.pos;
      const t = r.tag();
      r.skip(t & 7, t >>> 3);
      if (t !== TAG_KEY_VALUE_VALUE) {
        parts.push(buf.subarray(f, r.pos));
        len += r.pos - f;
      }
    }
    const valueHeader = lenHeader(TAG_KEY_VALUE_VALUE, value.length);
    parts.push(valueHeader, value);
    len += valueHeader.length + value.length;
    parts[header] = lenHeader(this.attrTag, len);
  }
}
