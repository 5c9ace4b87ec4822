// Reads attributes and their AnyValues in place, on the wire form, for stages that look at (or
// edit) a few attributes of a span, event, link, resource or scope without decoding it: find an
// attribute by key in a message's payload, then read its value as a string, int, double, bool,
// bytes, array or kvlist. Keys are compared as UTF-8 bytes (encode the key once, outside the loop).
//
//   const key = Buffer.from('http.route');
//   const slot = new AttributeSlot();
//   if (findAttribute(buf, view.spanStart(k), view.spanEnd(k), TAG_SPAN_ATTRIBUTES, key, slot)
//       && slot.kind === ANY_STRING) route = anyString(buf, slot);
//
// Rules: the first KeyValue with the key wins (the collector's pcommon.Map.Get); AnyValue is a
// oneof, so its last member on the wire wins (protobuf's rule); an AnyValue with no member (or
// a KeyValue without a value) is ANY_EMPTY. Offsets are into `buf`; nothing here allocates
// unless it returns a new value (a string, a bigint, a decoded tree). Input is expected to be
// validated (TracesData.fromProto); broken framing throws WireFormatError.
import {
  TAG_ANY_VALUE_ARRAY,
  TAG_ANY_VALUE_BOOL,
  TAG_ANY_VALUE_BYTES,
  TAG_ANY_VALUE_DOUBLE,
  TAG_ANY_VALUE_INT,
  TAG_ANY_VALUE_KVLIST,
  TAG_ANY_VALUE_STRING,
  TAG_ARRAY_VALUE_VALUES,
  TAG_KEY_VALUE_KEY,
  TAG_KEY_VALUE_LIST_VALUES,
  TAG_KEY_VALUE_VALUE,
} from './fields.ts';
import { WireReader } from './wire.ts';

// Kinds of an AnyValue: the number of the oneof member that is set (0: none).
export const ANY_EMPTY = 0;
export const ANY_STRING = 1;
export const ANY_BOOL = 2;
export const ANY_INT = 3;
export const ANY_DOUBLE = 4;
export const ANY_ARRAY = 5;
export const ANY_KVLIST = 6;
export const ANY_BYTES = 7;
export type AnyValueKind = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** Kind names as the collector's pcommon.ValueType.String() spells them. */
export const ANY_KIND_NAMES: readonly string[] = ['Empty', 'Str', 'Bool', 'Int', 'Double', 'Slice', 'Map', 'Bytes'];

/**
 * Where one AnyValue sits. `start`/`end` bound the set member's payload: the bytes of a string or
 * bytes value, the encoded ArrayValue / KeyValueList, the varint of a bool or int, the 8 bytes of
 * a double; both -1 for ANY_EMPTY. Reused by the caller (one per loop, not one per value).
 */
export class AnyValueSlot {
  kind: AnyValueKind = ANY_EMPTY;
  start = -1;
  end = -1;
}

/**
 * An attribute found by key: the AnyValue (inherited fields) plus where its KeyValue sits, for
 * editors: `fieldStart`..`fieldEnd` is the whole repeated field in the parent (tag, length prefix,
 * KeyValue payload), `valueFieldStart`..`valueFieldEnd` the KeyValue's `value` field (-1 when the
 * KeyValue has none).
 */
export class AttributeSlot extends AnyValueSlot {
  fieldStart = -1;
  fieldEnd = -1;
  valueFieldStart = -1;
  valueFieldEnd = -1;
}

/** True when buf[start, end) holds exactly the bytes `want`. */
export function bytesEqual(buf: Uint8Array, start: number, end: number, want: Uint8Array): boolean {
  if (end - start !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (buf[start + i] !== want[i]) return false;
  return true;
}

/**
 * Reads the AnyValue payload at [start, end) into `out`. Returns out.kind.
 */
export function readAnyValue(buf: Uint8Array, start: number, end: number, out: AnyValueSlot): AnyValueKind {
  out.kind = ANY_EMPTY;
  out.start = out.end = -1;
  const r = new WireReader(buf, start, end);
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case TAG_ANY_VALUE_STRING:
      case TAG_ANY_VALUE_ARRAY:
      case TAG_ANY_VALUE_KVLIST:
      case TAG_ANY_VALUE_BYTES: {
        const e = r.lenEnd();
        out.kind = (tag >>> 3) as AnyValueKind;
        out.start = r.pos;
        out.end = e;
        r.pos = e;
        break;
      }
      case TAG_ANY_VALUE_BOOL:
      case TAG_ANY_VALUE_INT:
        out.kind = (tag >>> 3) as AnyValueKind;
        out.start = r.pos;
        r.varint();
        out.end = r.pos;
        break;
      case TAG_ANY_VALUE_DOUBLE:
        out.kind = ANY_DOUBLE;
        out.start = r.pos;
        r.advance(8);
        out.end = r.pos;
        break;
      default:
        r.skip(tag & 7, tag >>> 3);
    }
  }
  return out.kind;
}

// Slots of locateKeyValue's output.
export const KV_KEY_START = 0;
export const KV_KEY_END = 1;
export const KV_VALUE_START = 2;
export const KV_VALUE_END = 3;
export const KV_VALUE_FIELD = 4;

/**
 * Locates the parts of the KeyValue payload at [start, end) with the reader `r` (over the same
 * bytes; reused by the caller, as a reader per attribute shows in profiles) and writes them into
 * `out` (an Int32Array of 5): the key bytes (KV_KEY_START..KV_KEY_END, an empty range at `start`
 * when there is no key field: the empty key), the AnyValue payload (KV_VALUE_START..KV_VALUE_END)
 * and where its field starts (KV_VALUE_FIELD), the last three -1 when there is no value. A repeated
 * field's last occurrence wins, as decoders read it.
 */
export function locateKeyValue(r: WireReader, start: number, end: number, out: Int32Array): void {
  out[KV_KEY_START] = out[KV_KEY_END] = start;
  out[KV_VALUE_START] = out[KV_VALUE_END] = out[KV_VALUE_FIELD] = -1;
  r.pos = start;
  r.end = end;
  while (r.pos < end) {
    const f = r.pos;
    const tag = r.tag();
    if (tag === TAG_KEY_VALUE_KEY || tag === TAG_KEY_VALUE_VALUE) {
      const e = r.lenEnd();
      if (tag === TAG_KEY_VALUE_KEY) {
        out[KV_KEY_START] = r.pos;
        out[KV_KEY_END] = e;
      } else {
        out[KV_VALUE_FIELD] = f;
        out[KV_VALUE_START] = r.pos;
        out[KV_VALUE_END] = e;
      }
      r.pos = e;
    } else {
      r.skip(tag & 7, tag >>> 3);
    }
  }
}

// locateKeyValue's output for this module's readers (they run synchronously).
const kvParts = new Int32Array(5);

/**
 * Finds the first attribute with key `key` (UTF-8 bytes) among the `attributesTag` fields of the
 * message payload at [start, end): TAG_SPAN_ATTRIBUTES for a span, TAG_RESOURCE_ATTRIBUTES,
 * TAG_SCOPE_ATTRIBUTES, TAG_EVENT_ATTRIBUTES, TAG_LINK_ATTRIBUTES (fields.ts). Fills `out` and
 * returns true, or returns false (out.kind ANY_EMPTY) when there is none.
 */
export function findAttribute(buf: Uint8Array, start: number, end: number, attributesTag: number, key: Uint8Array, out: AnyValueSlot): boolean {
  const r = new WireReader(buf, start, end);
  const kv = new WireReader(buf, start, start);
  while (r.pos < end) {
    const fieldStart = r.pos;
    const tag = r.tag();
    if (tag !== attributesTag) {
      r.skip(tag & 7, tag >>> 3);
      continue;
    }
    const kvEnd = r.lenEnd();
    locateKeyValue(kv, r.pos, kvEnd, kvParts);
    if (bytesEqual(buf, kvParts[KV_KEY_START]!, kvParts[KV_KEY_END]!, key)) {
      readAnyValue(buf, kvParts[KV_VALUE_START]!, kvParts[KV_VALUE_END]!, out);
      if (out instanceof AttributeSlot) {
        out.fieldStart = fieldStart;
        out.fieldEnd = kvEnd;
        out.valueFieldStart = kvParts[KV_VALUE_FIELD]!;
        out.valueFieldEnd = kvParts[KV_VALUE_END]!;
      }
      return true;
    }
    r.pos = kvEnd;
  }
  out.kind = ANY_EMPTY;
  out.start = out.end = -1;
  return false;
}

/**
 * Calls `each(keyStart, keyEnd, valueStart, valueEnd)` for every KeyValue among the `attributesTag`
 * fields of the message payload at [start, end) (a KeyValueList's payload with
 * TAG_KEY_VALUE_LIST_VALUES). The value range is the AnyValue payload (-1, -1 when absent); read it
 * with readAnyValue. Stops early when `each` returns false.
 */
export function forEachAttribute(
  buf: Uint8Array,
  start: number,
  end: number,
  attributesTag: number,
  each: (keyStart: number, keyEnd: number, valueStart: number, valueEnd: number) => boolean | void,
): void {
  const r = new WireReader(buf, start, end);
  const kv = new WireReader(buf, start, start);
  const parts = new Int32Array(5);
  while (r.pos < end) {
    const tag = r.tag();
    if (tag !== attributesTag) {
      r.skip(tag & 7, tag >>> 3);
      continue;
    }
    const kvEnd = r.lenEnd();
    locateKeyValue(kv, r.pos, kvEnd, parts);
    r.pos = kvEnd;
    if (each(parts[KV_KEY_START]!, parts[KV_KEY_END]!, parts[KV_VALUE_START]!, parts[KV_VALUE_END]!) === false) return;
  }
}

/** Calls `each(start, end)` with the AnyValue payload of every element of an ANY_ARRAY value. */
export function forEachArrayValue(buf: Uint8Array, slot: AnyValueSlot, each: (start: number, end: number) => boolean | void): void {
  if (slot.kind !== ANY_ARRAY) return;
  const r = new WireReader(buf, slot.start, slot.end);
  while (r.pos < slot.end) {
    const tag = r.tag();
    if (tag !== TAG_ARRAY_VALUE_VALUES) {
      r.skip(tag & 7, tag >>> 3);
      continue;
    }
    const e = r.lenEnd();
    const s = r.pos;
    r.pos = e;
    if (each(s, e) === false) return;
  }
}

const utf8 = new TextDecoder();

/** The value of an ANY_STRING slot (validated input is UTF-8). */
export function anyString(buf: Uint8Array, slot: AnyValueSlot): string {
  return utf8.decode(buf.subarray(slot.start, slot.end));
}

/** True when an ANY_STRING slot holds exactly `want` (UTF-8 bytes); no string is built. */
export function anyStringEquals(buf: Uint8Array, slot: AnyValueSlot, want: Uint8Array): boolean {
  return slot.kind === ANY_STRING && bytesEqual(buf, slot.start, slot.end, want);
}

/** The bytes of an ANY_BYTES (or ANY_STRING) slot, sharing `buf`'s memory. */
export function anyBytes(buf: Uint8Array, slot: AnyValueSlot): Uint8Array {
  return buf.subarray(slot.start, slot.end);
}

/** The value of an ANY_BOOL slot (any non-zero varint is true, as protobuf decoders read it). */
export function anyBool(buf: Uint8Array, slot: AnyValueSlot): boolean {
  for (let i = slot.start; i < slot.end; i++) if ((buf[i]! & 0x7f) !== 0) return true;
  return false;
}

/** The value of an ANY_INT slot as a signed 64-bit bigint (two's complement, as int64 is written). */
export function anyIntBig(buf: Uint8Array, slot: AnyValueSlot): bigint {
  let v = 0n;
  let shift = 0n;
  for (let i = slot.start; i < slot.end; i++) {
    v |= BigInt(buf[i]! & 0x7f) << shift;
    shift += 7n;
  }
  return BigInt.asIntN(64, v);
}

/**
 * The value of an ANY_INT slot as a number: exact for |v| <= 2^53, rounded beyond (use anyIntBig
 * when that matters). Small values are read without a bigint.
 */
export function anyInt(buf: Uint8Array, slot: AnyValueSlot): number {
  const n = slot.end - slot.start;
  // Up to 7 varint bytes hold 49 bits: always a non-negative safe integer.
  if (n <= 7) {
    let v = 0;
    let mul = 1;
    for (let i = slot.start; i < slot.end; i++) {
      v += (buf[i]! & 0x7f) * mul;
      mul *= 128;
    }
    return v;
  }
  return Number(anyIntBig(buf, slot));
}

/** The value of an ANY_DOUBLE slot. */
export function anyDouble(buf: Uint8Array, slot: AnyValueSlot): number {
  return new DataView(buf.buffer, buf.byteOffset + slot.start, 8).getFloat64(0, true);
}

/** A decoded AnyValue: string, bigint (int), number (double), boolean, Uint8Array, array, Map (kvlist), or null (empty). */
export type AnyValueObject = string | bigint | number | boolean | Uint8Array | null | AnyValueObject[] | Map<string, AnyValueObject>;

/**
 * Decodes the AnyValue payload at [start, end) (or -1, -1: empty) into a JS value, recursively.
 * Ints become bigints (int64), kvlists Maps (keys in wire order; a repeated key keeps its first
 * value, as pcommon.Map.Get reads it). For the rare paths that need the whole value.
 */
export function decodeAnyValue(buf: Uint8Array, start: number, end: number): AnyValueObject {
  if (start < 0) return null;
  const slot = new AnyValueSlot();
  readAnyValue(buf, start, end, slot);
  return anyValueToObject(buf, slot);
}

/** The value a slot points at, decoded (see decodeAnyValue). */
export function anyValueToObject(buf: Uint8Array, slot: AnyValueSlot): AnyValueObject {
  switch (slot.kind) {
    case ANY_STRING:
      return anyString(buf, slot);
    case ANY_BOOL:
      return anyBool(buf, slot);
    case ANY_INT:
      return anyIntBig(buf, slot);
    case ANY_DOUBLE:
      return anyDouble(buf, slot);
    case ANY_BYTES:
      return Uint8Array.from(anyBytes(buf, slot));
    case ANY_ARRAY: {
      const out: AnyValueObject[] = [];
      forEachArrayValue(buf, slot, (s, e) => {
        out.push(decodeAnyValue(buf, s, e));
      });
      return out;
    }
    case ANY_KVLIST: {
      const out = new Map<string, AnyValueObject>();
      forEachAttribute(buf, slot.start, slot.end, TAG_KEY_VALUE_LIST_VALUES, (ks, ke, vs, ve) => {
        const k = utf8.decode(buf.subarray(ks, ke));
        if (!out.has(k)) out.set(k, decodeAnyValue(buf, vs, ve));
      });
      return out;
    }
    default:
      return null;
  }
}
