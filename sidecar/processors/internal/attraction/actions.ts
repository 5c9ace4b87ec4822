// The attribute actions of the collector's `attributes` and `resource` processors (its
// internal/coreinternal/attraction): config, validation with YAML paths, and their application to
// an AttrList, in the order written.
//
// Rules, as the collector applies them: insert only when the key is absent, update only when it
// is present, upsert either way; the value comes from `value`, else from the attribute
// `from_attribute` (nothing happens when that is absent), else `default_value`. delete removes
// the key and every key matching `pattern`; hash replaces the value with the SHA-256 hex of its
// bytes (values.ts); extract runs `pattern` (named groups only) over a string value and upserts
// one string attribute per group; convert changes the type to int, double or string and leaves a
// value it cannot convert as it is. The first attribute with a key is the one read and updated
// (pcommon.Map.Get); delete and hash act on every attribute with the key, so a duplicated key
// cannot carry a value past a redaction.
import type { ConfigErrors, Schema } from '../../../config/schema.ts';
import { join } from '../../../config/schema.ts';
import { compileRe2 } from '../../../config/re2.ts';
import { ANY_STRING, AnyValueSlot, anyString } from '../../../pdata/anyvalue.ts';
import type { AttrList } from './list.ts';
import { convertValue, encodeConfigValue, encodeStringValue, hashValue, type ConfigValue } from './values.ts';

export const ACTIONS = ['insert', 'update', 'upsert', 'delete', 'hash', 'extract', 'convert'] as const;
export type ActionName = (typeof ACTIONS)[number];
const CONVERTED_TYPES = ['int', 'double', 'string'] as const;
type ConvertedType = (typeof CONVERTED_TYPES)[number];

export interface Action {
  action: ActionName;
  key: string;
  keyBytes: Uint8Array;
  /** AnyValue payload of `value` / `default_value`. */
  value?: Uint8Array;
  defaultValue?: Uint8Array;
  fromAttribute?: Uint8Array;
  /** delete / hash: keys matching it; extract: run over the value. */
  pattern?: RegExp;
  /** extract: target keys (UTF-8) of the named groups, in group order (group i is match[i + 1]). */
  targets?: Uint8Array[];
  convertedType?: ConvertedType;
}

const FIELDS = ['key', 'action', 'value', 'from_attribute', 'from_context', 'default_value', 'pattern', 'converted_type'];

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return typeof v === 'string' ? `"${v}"` : (JSON.stringify(v) ?? typeof v);
}

/** A config value (scalar, list or map), checked to be representable exactly. */
export function decodeConfigValue(v: unknown, path: string, errors: ConfigErrors): ConfigValue | undefined {
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) {
      errors.add(path, `${v} is not a finite number`);
      return undefined;
    }
    if (Number.isInteger(v) && !Number.isSafeInteger(v)) {
      errors.add(path, 'an integer beyond ±2^53 (9007199254740991) cannot be kept exactly; quote it to make it a string');
      return undefined;
    }
    return v;
  }
  if (Array.isArray(v)) {
    const out: ConfigValue[] = [];
    v.forEach((x, i) => {
      const d = decodeConfigValue(x, join(path, i), errors);
      if (d !== undefined) out.push(d);
    });
    return out;
  }
  if (v !== null && typeof v === 'object') {
    const out: Record<string, ConfigValue> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const d = decodeConfigValue(x, join(path, k), errors);
      if (d !== undefined) out[k] = d;
    }
    return out;
  }
  errors.add(path, `expected a string, number, bool, list or map, got ${describe(v)}`);
  return undefined;
}

function str(raw: Record<string, unknown>, field: string, path: string, errors: ConfigErrors): string | undefined {
  const v = raw[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  errors.add(join(path, field), `expected a string, got ${describe(v)}`);
  return undefined;
}

/** Compiles a `pattern:` (RE2 syntax), recording an error at its path. */
export function compilePattern(pattern: string, path: string, errors: ConfigErrors): { regex: RegExp; groups: (string | undefined)[] } | undefined {
  const c = compileRe2(pattern);
  if (!c.ok) {
    errors.add(path, `${JSON.stringify(pattern)}: ${c.error}`);
    return undefined;
  }
  return c.value;
}

function decodeAction(value: unknown, path: string, errors: ConfigErrors): Action | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    errors.add(path, `expected a map (key, action, ...), got ${describe(value)}`);
    return undefined;
  }
  const raw = value as Record<string, unknown>;
  const before = errors.list().length;
  for (const k of Object.keys(raw)) if (!FIELDS.includes(k)) errors.add(join(path, k), `unknown key (known keys: ${FIELDS.join(', ')})`);
  const actionText = str(raw, 'action', path, errors);
  const key = str(raw, 'key', path, errors) ?? '';
  const fromAttribute = str(raw, 'from_attribute', path, errors) ?? '';
  const fromContext = str(raw, 'from_context', path, errors) ?? '';
  const pattern = str(raw, 'pattern', path, errors) ?? '';
  const convertedType = str(raw, 'converted_type', path, errors) ?? '';
  const hasValue = raw.value !== undefined && raw.value !== null;
  const hasDefault = raw.default_value !== undefined && raw.default_value !== null;
  const cfgValue = hasValue ? decodeConfigValue(raw.value, join(path, 'value'), errors) : undefined;
  const cfgDefault = hasDefault ? decodeConfigValue(raw.default_value, join(path, 'default_value'), errors) : undefined;

  if (actionText === undefined) {
    errors.add(join(path, 'action'), `missing (one of ${ACTIONS.join(', ')})`);
    return undefined;
  }
  // The collector accepts any case (INSERT).
  const action = actionText.toLowerCase() as ActionName;
  if (!ACTIONS.includes(action)) {
    errors.add(join(path, 'action'), `"${actionText}" is not one of ${ACTIONS.join(', ')}`);
    return undefined;
  }
  const not = (field: string, present: boolean, why: string) => {
    if (present) errors.add(join(path, field), `not used by action ${action}${why}`);
  };
  if (fromContext !== '') {
    errors.add(join(path, 'from_context'), 'not supported: spans reach the processors without the request metadata (headers, auth) it reads; use value or from_attribute');
  }
  const out: Action = { action, key, keyBytes: Buffer.from(key, 'utf8') };
  switch (action) {
    case 'insert':
    case 'update':
    case 'upsert': {
      if (key === '') errors.add(join(path, 'key'), `required for action ${action}`);
      const sources = (hasValue ? 1 : 0) + (fromAttribute !== '' ? 1 : 0) + (fromContext !== '' ? 1 : 0);
      if (sources === 0 && !hasDefault) errors.add(path, `action ${action} needs one of value, from_attribute or default_value`);
      if (sources > 1) errors.add(path, `action ${action} takes only one of value, from_attribute, from_context`);
      not('pattern', pattern !== '', '');
      not('converted_type', convertedType !== '', '');
      if (cfgValue !== undefined) out.value = encodeConfigValue(cfgValue);
      if (cfgDefault !== undefined) out.defaultValue = encodeConfigValue(cfgDefault);
      if (fromAttribute !== '') out.fromAttribute = Buffer.from(fromAttribute, 'utf8');
      break;
    }
    case 'delete':
    case 'hash': {
      if (key === '' && pattern === '') errors.add(path, `action ${action} needs key, pattern or both`);
      not('value', hasValue, '');
      not('from_attribute', fromAttribute !== '', '');
      not('default_value', hasDefault, '');
      not('converted_type', convertedType !== '', '');
      if (pattern !== '') out.pattern = compilePattern(pattern, join(path, 'pattern'), errors)?.regex;
      break;
    }
    case 'extract': {
      if (key === '') errors.add(join(path, 'key'), 'required for action extract');
      not('value', hasValue, '');
      not('from_attribute', fromAttribute !== '', '');
      not('default_value', hasDefault, '');
      not('converted_type', convertedType !== '', '');
      if (pattern === '') {
        errors.add(join(path, 'pattern'), 'required for action extract (a regular expression with named groups, e.g. ^/api/(?P<version>v\\d+)/)');
        break;
      }
      const c = compilePattern(pattern, join(path, 'pattern'), errors);
      if (c === undefined) break;
      if (c.groups.length === 0) errors.add(join(path, 'pattern'), `${JSON.stringify(pattern)} has no named group (?P<name>...): nothing to extract`);
      else if (c.groups.some((g) => g === undefined)) errors.add(join(path, 'pattern'), `${JSON.stringify(pattern)} has an unnamed group: every group must be named (use (?:...) to group without capturing)`);
      out.pattern = c.regex;
      out.targets = c.groups.map((name) => Buffer.from(name ?? '', 'utf8'));
      break;
    }
    case 'convert': {
      if (key === '') errors.add(join(path, 'key'), 'required for action convert');
      not('value', hasValue, '');
      not('from_attribute', fromAttribute !== '', '');
      not('default_value', hasDefault, '');
      not('pattern', pattern !== '', '');
      if (convertedType === '') errors.add(join(path, 'converted_type'), `required for action convert (one of ${CONVERTED_TYPES.join(', ')})`);
      else if (!(CONVERTED_TYPES as readonly string[]).includes(convertedType)) errors.add(join(path, 'converted_type'), `"${convertedType}" is not one of ${CONVERTED_TYPES.join(', ')}`);
      else out.convertedType = convertedType as ConvertedType;
      break;
    }
  }
  return errors.list().length > before ? undefined : out;
}

/**
 * `actions:`, a non-empty list of actions (a processor without any would do nothing, which the
 * collector refuses too); each error names its item (`actions[1].action: ...`).
 */
export const actionsSchema: Schema<Action[]> = {
  expected: 'a list of actions',
  decode(value, path, errors) {
    if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
      errors.add(path, 'at least one action is required');
      return [];
    }
    if (!Array.isArray(value)) {
      errors.add(path, `expected a list of actions, got ${describe(value)}`);
      return [];
    }
    const out: Action[] = [];
    value.forEach((v, i) => {
      const a = decodeAction(v, join(path, i), errors);
      if (a !== undefined) out.push(a);
    });
    return out;
  },
};

/** Applies actions to attribute lists. One per processor; `apply` is synchronous and reentrant-free. */
export class ActionRunner {
  private readonly actions: readonly Action[];
  private readonly slot = new AnyValueSlot();

  constructor(actions: readonly Action[]) {
    this.actions = actions;
  }

  apply(list: AttrList): void {
    for (const a of this.actions) {
      switch (a.action) {
        case 'insert':
        case 'update':
        case 'upsert':
          this.put(list, a);
          break;
        case 'delete':
          this.each(list, a, (i) => list.remove(i));
          break;
        case 'hash':
          this.each(list, a, (i) => {
            const bytes = list.readValue(i, this.slot);
            list.set(i, hashValue(bytes, this.slot));
          });
          break;
        case 'extract':
          this.extract(list, a);
          break;
        case 'convert': {
          const i = list.find(a.keyBytes);
          if (i < 0) break;
          const bytes = list.readValue(i, this.slot);
          const v = convertValue(bytes, this.slot, a.convertedType!);
          if (v !== undefined) list.set(i, v);
          break;
        }
      }
    }
  }

  private put(list: AttrList, a: Action): void {
    let value = a.value;
    if (value === undefined && a.fromAttribute !== undefined) {
      const src = list.find(a.fromAttribute);
      if (src >= 0) value = list.value(src);
    }
    value ??= a.defaultValue;
    if (value === undefined) return;
    const i = list.find(a.keyBytes);
    if (i >= 0) {
      if (a.action !== 'insert') list.set(i, value);
    } else if (a.action !== 'update') {
      list.add(a.keyBytes, value);
    }
  }

  /** Calls `fn` for every live entry whose key is the action's key or matches its pattern. */
  private each(list: AttrList, a: Action, fn: (i: number) => void): void {
    const size = list.size;
    for (let i = 0; i < size; i++) {
      if (!list.live(i)) continue;
      if ((a.key !== '' && list.keyEquals(i, a.keyBytes)) || (a.pattern !== undefined && a.pattern.test(list.keyString(i)))) fn(i);
    }
  }

  private extract(list: AttrList, a: Action): void {
    const i = list.find(a.keyBytes);
    if (i < 0) return;
    const bytes = list.readValue(i, this.slot);
    if (this.slot.kind !== ANY_STRING) return;
    const m = a.pattern!.exec(anyString(bytes, this.slot));
    if (m === null) return;
    const targets = a.targets!;
    for (let g = 0; g < targets.length; g++) list.put(targets[g]!, encodeStringValue(m[g + 1] ?? ''));
  }
}
