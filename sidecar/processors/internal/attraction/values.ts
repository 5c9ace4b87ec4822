// The collector's value rules that attribute actions apply: the string form of a value
// (pcommon.Value.AsString), the hash action's input bytes, and the convert action's conversions.
// Values are read in place (pdata/anyvalue.ts) and new ones encoded by pdata/otlp-writer.ts's
// encodeAnyValue, the writer every other stage uses.
import { createHash } from 'node:crypto';
import {
  ANY_ARRAY,
  ANY_BOOL,
  ANY_BYTES,
  ANY_DOUBLE,
  ANY_INT,
  ANY_KVLIST,
  ANY_STRING,
  anyBool,
  anyBytes,
  anyDouble,
  anyIntBig,
  anyString,
  anyValueToObject,
  type AnyValueObject,
  type AnyValueSlot,
} from '../../../pdata/anyvalue.ts';
import type { AnyValue } from '../../../pdata/otlp-schema.ts';
import { encodeAnyValue } from '../../../pdata/otlp-writer.ts';

/** A value written in the config (YAML scalars, lists and maps), as the collector's pcommon.Value.FromRaw takes it. */
export type ConfigValue = string | number | boolean | ConfigValue[] | { [k: string]: ConfigValue };

/** AnyValue payload { string_value }. */
export function encodeStringValue(s: string): Uint8Array {
  return encodeAnyValue({ stringValue: s });
}

/** AnyValue payload { int_value } (int64, two's complement varint). */
function encodeIntValue(v: bigint): Uint8Array {
  return encodeAnyValue({ intValue: v });
}

/** AnyValue payload { double_value } (fixed64, little-endian). */
function encodeDoubleValue(v: number): Uint8Array {
  return encodeAnyValue({ doubleValue: v });
}

/**
 * A config value as an OTLP AnyValue. A whole number is an int (YAML cannot tell `2` from `2.0`
 * once parsed; the collector reads `2.0` as a double), other numbers doubles; lists are array
 * values, maps kvlist values.
 */
function configAnyValue(v: ConfigValue): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: BigInt(v) } : { doubleValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(configAnyValue) } };
  return { kvlistValue: { values: Object.entries(v).map(([key, x]) => ({ key, value: configAnyValue(x) })) } };
}

/** The AnyValue payload of a config value (see configAnyValue). */
export function encodeConfigValue(v: ConfigValue): Uint8Array {
  return encodeAnyValue(configAnyValue(v));
}

/** A double as Go's pcommon writes it in AsString: ES6 number formatting, which String() is. */
function doubleString(d: number): string {
  if (Number.isNaN(d)) return 'json: unsupported value: NaN';
  if (!Number.isFinite(d)) return `json: unsupported value: ${d > 0 ? '+Inf' : '-Inf'}`;
  return Object.is(d, -0) ? '-0' : String(d);
}

// Go's encoding/json escapes these inside strings (HTML safety and JS line terminators).
function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** JSON as Go's encoding/json writes a map/slice's raw form: map keys sorted, bytes as base64. */
function goJson(v: AnyValueObject): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return goJsonString(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return String(v);
  if (v instanceof Uint8Array) return goJsonString(Buffer.from(v).toString('base64'));
  if (Array.isArray(v)) return `[${v.map(goJson).join(',')}]`;
  const keys = [...v.keys()].sort();
  return `{${keys.map((k) => `${goJsonString(k)}:${goJson(v.get(k)!)}`).join(',')}}`;
}

/**
 * The string form of a value (the collector's pcommon.Value.AsString): strings as they are, ints
 * in decimal, doubles as ES6 formats them, bools `true`/`false`, bytes in base64, arrays and
 * kvlists as JSON, empty as "".
 */
export function asString(buf: Uint8Array, slot: AnyValueSlot): string {
  switch (slot.kind) {
    case ANY_STRING:
      return anyString(buf, slot);
    case ANY_INT:
      return anyIntBig(buf, slot).toString();
    case ANY_DOUBLE:
      return doubleString(anyDouble(buf, slot));
    case ANY_BOOL:
      return String(anyBool(buf, slot));
    case ANY_BYTES:
      return Buffer.from(anyBytes(buf, slot)).toString('base64');
    case ANY_ARRAY:
    case ANY_KVLIST:
      return goJson(anyValueToObject(buf, slot));
    default:
      return '';
  }
}

/**
 * The hash action's result, as the collector computes it: SHA-256 (the collector's default since
 * v0.79; SHA-1 before) in lowercase hex over the value's bytes: a string's UTF-8, one byte 1/0
 * for a bool, 8 little-endian bytes for an int (two's complement) or a double (IEEE 754). Other
 * kinds, and the empty string, hash to "" (no input bytes).
 */
export function hashValue(buf: Uint8Array, slot: AnyValueSlot): Uint8Array {
  let input: Uint8Array;
  switch (slot.kind) {
    case ANY_STRING:
      input = buf.subarray(slot.start, slot.end);
      break;
    case ANY_BOOL:
      input = Uint8Array.of(anyBool(buf, slot) ? 1 : 0);
      break;
    case ANY_INT: {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(anyIntBig(buf, slot));
      input = b;
      break;
    }
    case ANY_DOUBLE:
      input = buf.subarray(slot.start, slot.start + 8);
      break;
    default:
      input = new Uint8Array(0);
  }
  return encodeStringValue(input.length === 0 ? '' : createHash('sha256').update(input).digest('hex'));
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const GO_INT = /^[+-]?[0-9]+$/;
const GO_FLOAT = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const GO_FLOAT_SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;

/** strconv.ParseInt(s, 10, 64), or undefined when Go would return an error. */
function parseGoInt(s: string): bigint | undefined {
  if (!GO_INT.test(s)) return undefined;
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}

/** strconv.ParseFloat(s, 64) for decimal forms, inf and nan; undefined when Go errs (out of range included). */
function parseGoFloat(s: string): number | undefined {
  const special = GO_FLOAT_SPECIAL.exec(s);
  if (special !== null) {
    if (special[2]!.toLowerCase() === 'nan') return NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (!GO_FLOAT.test(s)) return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

/** Go's int64(float64) on amd64: truncation; NaN and out-of-range values give the minimum int64. */
function goTruncate(d: number): bigint {
  if (!Number.isFinite(d) || d >= 2 ** 63 || d < -(2 ** 63)) return INT64_MIN;
  return BigInt(Math.trunc(d));
}

/**
 * The convert action (the collector's rules): the new AnyValue payload, or undefined when the
 * value stays as it is (already that type, or not convertible: an unparsable string, an array...).
 */
export function convertValue(buf: Uint8Array, slot: AnyValueSlot, to: 'int' | 'double' | 'string'): Uint8Array | undefined {
  switch (to) {
    case 'string':
      return slot.kind === ANY_STRING ? undefined : encodeStringValue(asString(buf, slot));
    case 'int':
      switch (slot.kind) {
        case ANY_DOUBLE:
          return encodeIntValue(goTruncate(anyDouble(buf, slot)));
        case ANY_BOOL:
          return encodeIntValue(anyBool(buf, slot) ? 1n : 0n);
        case ANY_STRING: {
          const v = parseGoInt(anyString(buf, slot));
          return v === undefined ? undefined : encodeIntValue(v);
        }
        default:
          return undefined;
      }
    case 'double':
      switch (slot.kind) {
        case ANY_INT:
          return encodeDoubleValue(Number(anyIntBig(buf, slot)));
        case ANY_BOOL:
          return encodeDoubleValue(anyBool(buf, slot) ? 1 : 0);
        case ANY_STRING: {
          const v = parseGoFloat(anyString(buf, slot));
          return v === undefined ? undefined : encodeDoubleValue(v);
        }
        default:
          return undefined;
      }
  }
}
