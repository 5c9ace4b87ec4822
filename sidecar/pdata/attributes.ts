// Reads one encoded KeyValue (an attribute) in place: its key and, when it holds one, its string
// value. For processors that look at a few attributes of a span or resource without decoding it.
import { TAG_ANY_VALUE_STRING, TAG_KEY_VALUE_KEY, TAG_KEY_VALUE_VALUE } from './fields.ts';
import { WireReader } from './wire.ts';

const utf8 = new TextDecoder();

// [keyStart, keyEnd, stringStart, stringEnd] of the KeyValue last located (-1 when absent).
// Module scratch: reading is synchronous, and an attribute lookup allocates nothing.
const found = new Int32Array(4);

function locate(buf: Uint8Array, start: number, end: number): void {
  found.fill(-1);
  const r = new WireReader(buf, start, end);
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === TAG_KEY_VALUE_KEY) {
      const e = r.lenEnd();
      found[0] = r.pos;
      found[1] = e;
      r.pos = e;
    } else if (tag === TAG_KEY_VALUE_VALUE) {
      const e = r.lenEnd();
      locateString(buf, r.pos, e);
      r.pos = e;
    } else {
      r.skip(tag & 7, tag >>> 3);
    }
  }
}

function locateString(buf: Uint8Array, start: number, end: number): void {
  found[2] = found[3] = -1;
  const r = new WireReader(buf, start, end);
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === TAG_ANY_VALUE_STRING) {
      const e = r.lenEnd();
      found[2] = r.pos;
      found[3] = e;
      r.pos = e;
    } else {
      // AnyValue is a oneof: a later member (fields 1..7) replaces the string.
      if (tag >>> 3 <= 7) found[2] = found[3] = -1;
      r.skip(tag & 7, tag >>> 3);
    }
  }
}

function equalAt(buf: Uint8Array, start: number, end: number, want: Uint8Array): boolean {
  if (end - start !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (buf[start + i] !== want[i]) return false;
  return true;
}

/** The key of the KeyValue payload at [start, end), or undefined when it has none. */
export function attributeKey(buf: Uint8Array, start: number, end: number): string | undefined {
  locate(buf, start, end);
  return found[0] === -1 ? undefined : utf8.decode(buf.subarray(found[0], found[1]));
}

/**
 * True when the KeyValue payload at [start, end) has one of `keys` (UTF-8 bytes) as its key and a
 * string value starting with `prefix`.
 */
export function attributeStringStartsWith(buf: Uint8Array, start: number, end: number, keys: readonly Uint8Array[], prefix: Uint8Array): boolean {
  locate(buf, start, end);
  const ks = found[0]!;
  const ke = found[1]!;
  const vs = found[2]!;
  const ve = found[3]!;
  if (ks === -1 || vs === -1 || ve - vs < prefix.length) return false;
  if (!keys.some((k) => equalAt(buf, ks, ke, k))) return false;
  return equalAt(buf, vs, vs + prefix.length, prefix);
}
