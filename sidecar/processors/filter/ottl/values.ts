// OTTL values at run time and the language's comparison rules (pkg/ottl LANGUAGE.md, "Comparison
// Rules"), on this representation:
//   nil -> null, string -> string, bool -> boolean, int (int64) -> bigint, double -> number,
//   bytes -> Uint8Array, map -> Map<string, OValue>, list -> OValue[]
// (what decodeAnyValue in pdata/anyvalue.ts returns, so attribute values need no conversion).
import type { AnyValueObject } from '../../../pdata/anyvalue.ts';
import type { CmpOp } from './parser.ts';

export type OValue = AnyValueObject;

/** A condition that failed while being evaluated (error_mode decides what happens). */
export class OttlRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OttlRuntimeError';
  }
}

/** Go's string ordering compares UTF-8 bytes, which is code point order (JS `<` is UTF-16 units). */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800..DFFF) encode code points above U+FFFF, which sort after U+E000..FFFF.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

function ordered(c: number, op: CmpOp): boolean {
  switch (op) {
    case '==':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

function numeric(a: number, b: number, op: CmpOp): boolean {
  // Not through ordered(): NaN compares false to everything (and != true), as in Go.
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

/** Deep equality of maps and lists (Go's reflect.DeepEqual on AsRaw(): int 1 and double 1.0 differ). */
export function deepEqual(a: OValue, b: OValue): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (typeof a !== typeof b) return false;
  if (typeof a === 'number') return a === b;
  if (a instanceof Uint8Array) return b instanceof Uint8Array && compareBytes(a, b) === 0;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]!));
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !deepEqual(v, b.get(k)!)) return false;
    return true;
  }
  return false;
}

/**
 * OTTL comparison: nil equals only nil; ints and doubles compare as numbers (an int against a
 * double is converted to float64); strings by bytes; bools with false < true; bytes by bytes;
 * maps and lists only by == / !=. Any other pairing is "not comparable": != is true, every other
 * operator false. Never throws.
 */
export function compareValues(a: OValue, b: OValue, op: CmpOp): boolean {
  if (a === null || b === null) {
    if (a === null && b === null) return op === '==' || op === '<=' || op === '>=';
    return op === '!=';
  }
  switch (typeof a) {
    case 'string':
      return typeof b === 'string' ? ordered(compareStrings(a, b), op) : op === '!=';
    case 'boolean':
      return typeof b === 'boolean' ? ordered(Number(a) - Number(b), op) : op === '!=';
    case 'bigint':
      if (typeof b === 'bigint') return ordered(a < b ? -1 : a > b ? 1 : 0, op);
      if (typeof b === 'number') return numeric(Number(a), b, op);
      return op === '!=';
    case 'number':
      if (typeof b === 'number') return numeric(a, b, op);
      if (typeof b === 'bigint') return numeric(a, Number(b), op);
      return op === '!=';
    default:
      break;
  }
  if (a instanceof Uint8Array) return b instanceof Uint8Array ? ordered(compareBytes(a, b), op) : op === '!=';
  if (op === '==') return deepEqual(a, b);
  if (op === '!=') return !deepEqual(a, b);
  return false;
}

/** Go's encoding/json spelling of a double, or a runtime error for NaN and infinities. */
function jsonNumber(x: number): string {
  if (!Number.isFinite(x)) throw new OttlRuntimeError(`json: unsupported value: ${x === Infinity ? '+Inf' : x === -Infinity ? '-Inf' : 'NaN'}`);
  // Same thresholds as Go (exponent below 1e-6 and from 1e21), same shortest digits.
  return JSON.stringify(x);
}

function jsonString(s: string): string {
  // Go escapes <, > and & (HTML-safe) and the JS line separators.
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function toJson(v: OValue): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return jsonString(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'number':
      return jsonNumber(v);
    default:
      break;
  }
  if (v instanceof Uint8Array) return `"${Buffer.from(v).toString('base64')}"`;
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  // Go sorts map keys (by bytes).
  const keys = [...(v).keys()].sort(compareStrings);
  return `{${keys.map((k) => `${jsonString(k)}:${toJson((v).get(k)!)}`).join(',')}}`;
}

/**
 * The string IsMatch tests (OTTL's StringLikeGetter): strings as they are, bytes as lowercase
 * hex, maps and lists as JSON, other values as JSON scalars; nil stays nil (no match). Throws
 * OttlRuntimeError where Go's JSON encoder fails (NaN and infinities).
 */
export function stringLike(v: OValue): string | null {
  if (v === null) return null;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return toJson(v);
}

/** The type name OTTL errors use (pcommon.ValueType). */
export function typeName(v: OValue): string {
  if (v === null) return 'Empty';
  switch (typeof v) {
    case 'string':
      return 'Str';
    case 'boolean':
      return 'Bool';
    case 'bigint':
      return 'Int';
    case 'number':
      return 'Double';
    default:
      break;
  }
  if (v instanceof Uint8Array) return 'Bytes';
  return Array.isArray(v) ? 'Slice' : 'Map';
}
