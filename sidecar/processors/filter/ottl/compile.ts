// Compiles a parsed OTTL condition into a closure over an EvalContext (records.ts): paths become
// reads of the fields the span/event/resource/scope records located, without decoding the span;
// attribute values are decoded only where a comparison needs a JS value (an `==` against a string
// literal compares bytes in place). Everything outside the supported subset is refused here with
// the column and what is not supported, so a config error names it before the sidecar starts.
import {
  ANY_ARRAY,
  ANY_BOOL,
  ANY_DOUBLE,
  ANY_EMPTY,
  ANY_INT,
  ANY_KIND_NAMES,
  ANY_KVLIST,
  ANY_STRING,
  AnyValueSlot,
  anyValueToObject,
  findAttribute,
  forEachArrayValue,
  readAnyValue,
} from '../../../pdata/anyvalue.ts';
import { compileRe2 } from '../../../config/re2.ts';
import { SPAN_KIND_NAMES, TAG_KEY_VALUE_LIST_VALUES } from '../../../pdata/fields.ts';
import { OttlError, parseCondition, type BoolNode, type CmpOp, type Literal, type ValueNode } from './parser.ts';
import type { AttributeSlots, ConditionKeys, EvalContext } from './records.ts';
import { compareValues, OttlRuntimeError, stringLike, type OValue } from './values.ts';

/** `span`: a `traces.span` condition; `spanevent`: a `traces.spanevent` condition. */
export type OttlContext = 'span' | 'spanevent';

export interface Condition {
  readonly text: string;
  /** Throws OttlRuntimeError when the condition cannot be evaluated (error_mode decides). */
  evaluate(c: EvalContext): boolean;
}

type BoolFn = (c: EvalContext) => boolean;

interface Val {
  get(c: EvalContext): OValue;
  /** For values held in the bytes (string fields, attributes): where, without decoding; null is nil. */
  slot?: (c: EvalContext) => AnyValueSlot | null;
  /** Set for literals and enums. */
  constant?: { value: OValue };
}

export const SUPPORTED_FUNCTIONS = ['IsMatch', 'IsString', 'IsInt', 'IsDouble', 'IsBool', 'IsMap', 'IsList'] as const;

export const SPAN_KIND_ENUMS: Record<string, number> = Object.fromEntries(SPAN_KIND_NAMES.map((n, i) => [n, i]));
export const STATUS_CODE_ENUMS: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };
const ENUMS: Record<string, number> = { ...SPAN_KIND_ENUMS, ...STATUS_CODE_ENUMS };

// ptrace.SpanKind.String() (kind.string) and the enum names (kind.deprecated_string).
const KIND_STRINGS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
const KIND_ENUM_STRINGS = SPAN_KIND_NAMES;

// Small ints as preallocated bigints: reading a span's kind or status allocates nothing.
const SMALL: bigint[] = Array.from({ length: 64 }, (_, i) => BigInt(i));
const big = (n: number): bigint => (n < 64 ? SMALL[n]! : BigInt(n));

const SPAN_PATHS = [
  'name',
  'kind',
  'kind.string',
  'kind.deprecated_string',
  'status.code',
  'status.message',
  'trace_state',
  'trace_id.string',
  'span_id.string',
  'parent_span_id.string',
  'start_time_unix_nano',
  'end_time_unix_nano',
  'attributes["key"]',
];
const COMMON_PATHS = ['resource.attributes["key"]', 'instrumentation_scope.name', 'instrumentation_scope.version', 'instrumentation_scope.attributes["key"]'];

function supportedPaths(ctx: OttlContext): string {
  if (ctx === 'span') return [...SPAN_PATHS, ...COMMON_PATHS].join(', ');
  return ['name', 'time_unix_nano', 'attributes["key"]', ...SPAN_PATHS.map((p) => `span.${p}`), ...COMMON_PATHS].join(', ');
}

function bytesEqual(buf: Uint8Array, start: number, end: number, want: Uint8Array): boolean {
  if (end - start !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (buf[start + i] !== want[i]) return false;
  return true;
}

function literalValue(lit: Literal): OValue {
  return lit.kind === 'nil' ? null : lit.value;
}

function slotValue(c: EvalContext, s: AnyValueSlot | null): OValue {
  if (s === null || s.kind === ANY_EMPTY) return null;
  return anyValueToObject(c.buf, s);
}

/** A value held as a slot: get() decodes it. */
function slotVal(slot: (c: EvalContext) => AnyValueSlot | null): Val {
  return { slot, get: (c) => slotValue(c, slot(c)) };
}

function hexOf(c: EvalContext, start: number, end: number): string {
  // pcommon's TraceID/SpanID String(): "" for an empty (all-zero or absent) ID.
  let zero = true;
  for (let i = start; i < end; i++) if (c.buf[i] !== 0) zero = false;
  return zero ? '' : Buffer.from(c.buf.buffer, c.buf.byteOffset + start, end - start).toString('hex');
}

function fixed64(c: EvalContext, off: number): bigint {
  if (off < 0) return SMALL[0]!;
  return new DataView(c.buf.buffer, c.buf.byteOffset + off, 8).getBigInt64(0, true);
}

/** Follows `keys` (after the first) into maps and lists, as OTTL does; null when a map lacks a key. */
function navigator(first: (c: EvalContext) => AnyValueSlot | null, keys: readonly (string | bigint)[]): (c: EvalContext) => AnyValueSlot | null {
  if (keys.length === 0) return first;
  const tmp = new AnyValueSlot();
  const keyBytes = keys.map((k) => (typeof k === 'string' ? Buffer.from(k, 'utf8') : undefined));
  return (c) => {
    let cur = first(c);
    for (let i = 0; i < keys.length; i++) {
      if (cur === null) return null;
      const key = keys[i]!;
      if (cur.kind === ANY_KVLIST) {
        if (typeof key !== 'string') throw new OttlRuntimeError('map must be indexed by a string');
        if (!findAttribute(c.buf, cur.start, cur.end, TAG_KEY_VALUE_LIST_VALUES, keyBytes[i]!, tmp)) return null;
        cur = tmp;
      } else if (cur.kind === ANY_ARRAY) {
        if (typeof key !== 'bigint') throw new OttlRuntimeError('slice must be indexed by an int');
        let n = 0n;
        let hit = false;
        forEachArrayValue(c.buf, cur, (s, e) => {
          if (n++ !== key) return true;
          readAnyValue(c.buf, s, e, tmp);
          hit = true;
          return false;
        });
        if (!hit) throw new OttlRuntimeError(`index ${key} out of bounds`);
        cur = tmp;
      } else {
        throw new OttlRuntimeError(`type ${ANY_KIND_NAMES[cur.kind]} does not support string indexing`);
      }
    }
    return cur;
  };
}

function attributeVal(node: Extract<ValueNode, { type: 'path' }>, pick: (c: EvalContext) => AttributeSlots, table: { add(k: string): number }): Val {
  const [first, ...rest] = node.keys;
  if (first === undefined) throw new OttlError(`"${node.text}" without a key is not supported in filter conditions here: write ${node.text}["key"]`, node.col);
  if (typeof first !== 'string') throw new OttlError(`"${node.text}": attributes are indexed by a string key`, node.col);
  const k = table.add(first);
  const top = (c: EvalContext): AnyValueSlot | null => {
    const a = pick(c);
    return a.found[k] === 1 ? a.slots[k]! : null;
  };
  return slotVal(navigator(top, rest));
}

function resolvePath(node: Extract<ValueNode, { type: 'path' }>, ctx: OttlContext, keys: ConditionKeys): Val {
  let fields = node.fields;
  let source: 'span' | 'event' = ctx === 'span' ? 'span' : 'event';
  const head = fields[0]!;
  if (head === 'span' && fields.length > 1) {
    source = 'span';
    fields = fields.slice(1);
  } else if (head === 'spanevent' && ctx === 'spanevent' && fields.length > 1) {
    fields = fields.slice(1);
  }
  const name = fields.join('.');
  const unsupported = (): never => {
    throw new OttlError(`path "${node.text}" is not supported in ${ctx} conditions here; supported: ${supportedPaths(ctx)}`, node.col);
  };
  const noKeys = (v: Val): Val => {
    if (node.keys.length > 0) throw new OttlError(`"${name}" cannot be indexed`, node.col);
    return v;
  };

  if (fields[0] === 'resource') {
    if (name === 'resource.attributes') return attributeVal(node, (c) => c.resource.attrs, keys.resource);
    return unsupported();
  }
  if (fields[0] === 'instrumentation_scope' || fields[0] === 'scope') {
    const rest = fields.slice(1).join('.');
    if (rest === 'attributes') return attributeVal(node, (c) => c.scope.attrs, keys.scope);
    if (rest === 'name' || rest === 'version') {
      keys.scopeFields = true;
      return noKeys(slotVal(rest === 'name' ? (c) => c.scope.name : (c) => c.scope.version));
    }
    return unsupported();
  }
  if (source === 'event') {
    switch (name) {
      case 'name':
        return noKeys(slotVal((c) => c.event.name));
      case 'time_unix_nano':
        return noKeys({ get: (c) => fixed64(c, c.event.time) });
      case 'attributes':
        return attributeVal(node, (c) => c.event.attrs, keys.event);
      default:
        return unsupported();
    }
  }
  switch (name) {
    case 'name':
      return noKeys(slotVal((c) => c.span.name));
    case 'kind':
      return noKeys({ get: (c) => big(c.span.kind) });
    case 'kind.string':
      return noKeys({ get: (c) => KIND_STRINGS[c.span.kind] ?? '' });
    case 'kind.deprecated_string':
      return noKeys({ get: (c) => KIND_ENUM_STRINGS[c.span.kind] ?? '' });
    case 'status.code':
      return noKeys({ get: (c) => big(c.span.statusCode) });
    case 'status.message':
      return noKeys(slotVal((c) => c.span.statusMessage));
    case 'trace_state':
      return noKeys(slotVal((c) => c.span.traceState));
    case 'trace_id.string':
      return noKeys({ get: (c) => hexOf(c, c.span.traceIdStart, c.span.traceIdEnd) });
    case 'span_id.string':
      return noKeys({ get: (c) => hexOf(c, c.span.spanIdStart, c.span.spanIdEnd) });
    case 'parent_span_id.string':
      return noKeys({ get: (c) => hexOf(c, c.span.parentStart, c.span.parentEnd) });
    case 'start_time_unix_nano':
      return noKeys({ get: (c) => fixed64(c, c.span.startTime) });
    case 'end_time_unix_nano':
      return noKeys({ get: (c) => fixed64(c, c.span.endTime) });
    case 'attributes':
      return attributeVal(node, (c) => c.span.attrs, keys.span);
    default:
      return unsupported();
  }
}

function unsupportedFunction(name: string, col: number): never {
  const kind = /^[a-z]/.test(name) ? ' (an editor: editors change data and have no place in a condition)' : '';
  throw new OttlError(`function "${name}" is not supported in filter conditions here${kind}; supported: ${SUPPORTED_FUNCTIONS.join(', ')}`, col);
}

/** The arguments of a call by parameter name, positional or named. */
function bindArgs(node: Extract<ValueNode, { type: 'call' }>, params: readonly string[]): ValueNode[] {
  const out: (ValueNode | undefined)[] = [];
  let named = false;
  node.args.forEach((a, i) => {
    if (a.name === undefined) {
      if (named) throw new OttlError(`${node.name}: positional arguments must come before named ones`, a.col);
      if (i >= params.length) throw new OttlError(`${node.name} takes ${params.length} argument${params.length > 1 ? 's' : ''} (${params.join(', ')}), got ${node.args.length}`, a.col);
      out[i] = a.value;
    } else {
      named = true;
      const at = params.indexOf(a.name);
      if (at === -1) throw new OttlError(`${node.name} has no parameter "${a.name}" (parameters: ${params.join(', ')})`, a.col);
      if (out[at] !== undefined) throw new OttlError(`${node.name}: "${a.name}" given twice`, a.col);
      out[at] = a.value;
    }
  });
  for (let i = 0; i < params.length; i++) {
    if (out[i] === undefined) throw new OttlError(`${node.name} needs its "${params[i]}" argument (${node.name}(${params.join(', ')}))`, node.col);
  }
  return out as ValueNode[];
}

const TYPE_CHECKS: Record<string, { kind: number; test: (v: OValue) => boolean }> = {
  IsString: { kind: ANY_STRING, test: (v) => typeof v === 'string' },
  IsInt: { kind: ANY_INT, test: (v) => typeof v === 'bigint' },
  IsDouble: { kind: ANY_DOUBLE, test: (v) => typeof v === 'number' },
  IsBool: { kind: ANY_BOOL, test: (v) => typeof v === 'boolean' },
  IsMap: { kind: ANY_KVLIST, test: (v) => v instanceof Map },
  IsList: { kind: ANY_ARRAY, test: (v) => Array.isArray(v) },
};

function compileCall(node: Extract<ValueNode, { type: 'call' }>, ctx: OttlContext, keys: ConditionKeys): Val {
  if (node.name === 'IsMatch') {
    const [targetNode, patternNode] = bindArgs(node, ['target', 'pattern']);
    if (patternNode!.type !== 'literal' || patternNode!.lit.kind !== 'string') {
      throw new OttlError('IsMatch: the pattern must be a string literal', patternNode!.col);
    }
    const compiled = compileRe2(patternNode!.lit.value);
    if (!compiled.ok) throw new OttlError(`IsMatch pattern ${JSON.stringify(patternNode!.lit.value)}: ${compiled.error}`, patternNode!.col);
    const re = compiled.value.regex;
    const target = compileValue(targetNode!, ctx, keys);
    const slot = target.slot;
    if (slot !== undefined) {
      return {
        get: (c) => {
          const s = slot(c);
          if (s === null || s.kind === ANY_EMPTY) return false;
          if (s.kind === ANY_STRING) return re.test(c.buf.toString('utf8', s.start, s.end));
          return re.test(stringLike(anyValueToObject(c.buf, s))!);
        },
      };
    }
    return {
      get: (c) => {
        const s = stringLike(target.get(c));
        return s !== null && re.test(s);
      },
    };
  }
  const check = TYPE_CHECKS[node.name];
  if (check !== undefined) {
    const [targetNode] = bindArgs(node, ['target']);
    const target = compileValue(targetNode!, ctx, keys);
    const slot = target.slot;
    if (slot !== undefined) {
      return {
        get: (c) => {
          const s = slot(c);
          return s !== null && s.kind === check.kind;
        },
      };
    }
    return { get: (c) => check.test(target.get(c)) };
  }
  return unsupportedFunction(node.name, node.col);
}

function compileValue(node: ValueNode, ctx: OttlContext, keys: ConditionKeys): Val {
  switch (node.type) {
    case 'literal': {
      const value = literalValue(node.lit);
      return { get: () => value, constant: { value } };
    }
    case 'enum': {
      const n = ENUMS[node.name];
      if (n === undefined) {
        throw new OttlError(`unknown enum "${node.name}"; known: ${Object.keys(ENUMS).join(', ')}`, node.col);
      }
      const value = BigInt(n);
      return { get: () => value, constant: { value } };
    }
    case 'path':
      return resolvePath(node, ctx, keys);
    case 'call':
      return compileCall(node, ctx, keys);
  }
}

function compileCmp(op: CmpOp, left: Val, right: Val): BoolFn {
  // Fast path: a value held in the bytes against a string literal, by == or != : bytes compared
  // in place, nothing decoded (the common shape of filter conditions).
  for (const [held, lit] of [
    [left, right],
    [right, left],
  ] as const) {
    if ((op === '==' || op === '!=') && held.slot !== undefined && typeof lit.constant?.value === 'string') {
      const want = Buffer.from(lit.constant.value, 'utf8');
      const slot = held.slot;
      const eq = (c: EvalContext): boolean => {
        const s = slot(c);
        return s !== null && s.kind === ANY_STRING && bytesEqual(c.buf, s.start, s.end, want);
      };
      return op === '==' ? eq : (c) => !eq(c);
    }
  }
  return (c) => compareValues(left.get(c), right.get(c), op);
}

function compileBool(node: BoolNode, ctx: OttlContext, keys: ConditionKeys): BoolFn {
  switch (node.type) {
    case 'or': {
      const items = node.items.map((n) => compileBool(n, ctx, keys));
      return (c) => {
        for (const f of items) if (f(c)) return true;
        return false;
      };
    }
    case 'and': {
      const items = node.items.map((n) => compileBool(n, ctx, keys));
      return (c) => {
        for (const f of items) if (!f(c)) return false;
        return true;
      };
    }
    case 'not': {
      const inner = compileBool(node.item, ctx, keys);
      return (c) => !inner(c);
    }
    case 'cmp':
      return compileCmp(node.op, compileValue(node.left, ctx, keys), compileValue(node.right, ctx, keys));
    case 'const': {
      const v = compileValue(node.value, ctx, keys);
      if (v.constant !== undefined) {
        const b = v.constant.value === true;
        return () => b;
      }
      // Every supported function returns a bool.
      return (c) => v.get(c) === true;
    }
  }
}

/**
 * Parses and compiles one condition. Attribute keys it reads are added to `keys` (shared by all
 * the conditions of a processor, so each element is read once for all of them). Throws OttlError.
 */
export function compileCondition(text: string, ctx: OttlContext, keys: ConditionKeys): Condition {
  const fn = compileBool(parseCondition(text), ctx, keys);
  return { text, evaluate: fn };
}
