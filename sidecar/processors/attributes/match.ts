// `include` / `exclude` of the attributes processor: which spans the actions apply to, with the
// collector's match rules (internal/filter/filterconfig, filterspan, filtermatcher; the default
// matcher, not the OTTL bridge behind its alpha feature gate):
// - every property given must match (AND); a rule with none is a config error;
// - services (the resource's service.name in its string form, "<nil-service-name>" when absent),
//   span_names and span_kinds (SPAN_KIND_SERVER, ...) match when one item matches (OR);
// - attributes and resources: every listed key must be present, with the value when one is given;
// - libraries: every listed library must match the span's instrumentation scope (name, and version
//   when given; `version: ""` matches only an empty version);
// - match_type strict compares exactly (an attribute value also by type: 200 is not "200");
//   regexp searches the text (unanchored, as Go's MatchString) with RE2 syntax (config/re2.ts);
//   an attribute's int, double or bool value is matched by its decimal / true|false text.
// A span is processed when it matches `include` (if given) and does not match `exclude` (if given).
import { join, type ConfigErrors, type Schema } from '../../config/schema.ts';
import { ANY_BOOL, ANY_DOUBLE, ANY_INT, ANY_STRING, AnyValueSlot, anyBool, anyDouble, anyIntBig, anyString } from '../../pdata/anyvalue.ts';
import { SPAN_KIND_NAMES, TAG_RESOURCE_ATTRIBUTES, TAG_SCOPE_NAME, TAG_SCOPE_VERSION } from '../../pdata/fields.ts';
import type { TraceView } from '../../pdata/trace-view.ts';
import { WireReader } from '../../pdata/wire.ts';
import { compilePattern, decodeConfigValue } from '../internal/attraction/actions.ts';
import { AttrList } from '../internal/attraction/list.ts';
import { asString } from '../internal/attraction/values.ts';

const utf8 = new TextDecoder();

/** Span kinds by their OTLP number, as the collector spells them (traceutil.SpanKindStr). */
const STRICT_KINDS = SPAN_KIND_NAMES.slice(1);
const PROPERTY_FIELDS = ['services', 'span_names', 'span_kinds', 'attributes', 'resources', 'libraries'];
const FIELDS = ['match_type', 'regexp', ...PROPERTY_FIELDS];

type StrictValue = { kind: 'string'; v: string } | { kind: 'int'; v: bigint } | { kind: 'double'; v: number } | { kind: 'bool'; v: boolean };

interface AttrMatcher {
  key: Uint8Array;
  strict?: StrictValue;
  regex?: RegExp;
}

/** One text matcher: exact strings or regexps. */
class TextMatcher {
  private readonly strict: ReadonlySet<string> | undefined;
  private readonly regexes: readonly RegExp[];

  constructor(strict: string[] | undefined, regexes: RegExp[]) {
    this.strict = strict === undefined ? undefined : new Set(strict);
    this.regexes = regexes;
  }

  matches(s: string): boolean {
    if (this.strict !== undefined) return this.strict.has(s);
    for (const r of this.regexes) if (r.test(s)) return true;
    return false;
  }
}

export interface MatchRule {
  services?: TextMatcher;
  spanNames?: TextMatcher;
  spanKinds?: TextMatcher;
  attributes?: AttrMatcher[];
  resources?: AttrMatcher[];
  libraries?: { name: TextMatcher; version?: TextMatcher }[];
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return typeof v === 'string' ? `"${v}"` : (JSON.stringify(v) ?? typeof v);
}

function stringList(v: unknown, path: string, errors: ConfigErrors): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) {
    errors.add(path, `expected a list of strings, got ${describe(v)}`);
    return undefined;
  }
  const out: string[] = [];
  v.forEach((x, i) => {
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out.push(String(x));
    else errors.add(join(path, i), `expected a string, got ${describe(x)}`);
  });
  return out;
}

function textMatcher(items: string[], regexp: boolean, path: string, errors: ConfigErrors): TextMatcher {
  if (!regexp) return new TextMatcher(items, []);
  const regexes: RegExp[] = [];
  items.forEach((p, i) => {
    const c = compilePattern(p, join(path, i), errors);
    if (c !== undefined) regexes.push(c.regex);
  });
  return new TextMatcher(undefined, regexes);
}

function attrMatchers(v: unknown, regexp: boolean, path: string, errors: ConfigErrors): AttrMatcher[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) {
    errors.add(path, `expected a list of {key, value}, got ${describe(v)}`);
    return undefined;
  }
  const out: AttrMatcher[] = [];
  v.forEach((item, i) => {
    const p = join(path, i);
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      errors.add(p, `expected a map {key, value}, got ${describe(item)}`);
      return;
    }
    const raw = item as Record<string, unknown>;
    for (const k of Object.keys(raw)) if (k !== 'key' && k !== 'value') errors.add(join(p, k), 'unknown key (known keys: key, value)');
    if (typeof raw.key !== 'string' || raw.key === '') {
      errors.add(join(p, 'key'), 'required (a non-empty string)');
      return;
    }
    const m: AttrMatcher = { key: Buffer.from(raw.key, 'utf8') };
    if (raw.value !== undefined && raw.value !== null) {
      const value = decodeConfigValue(raw.value, join(p, 'value'), errors);
      if (value === undefined) return;
      if (regexp) {
        if (typeof value !== 'string') {
          errors.add(join(p, 'value'), `match_type regexp takes a string pattern, got ${describe(value)}`);
          return;
        }
        m.regex = compilePattern(value, join(p, 'value'), errors)?.regex;
      } else if (typeof value === 'string') m.strict = { kind: 'string', v: value };
      else if (typeof value === 'boolean') m.strict = { kind: 'bool', v: value };
      else if (typeof value === 'number') m.strict = Number.isInteger(value) ? { kind: 'int', v: BigInt(value) } : { kind: 'double', v: value };
      else {
        errors.add(join(p, 'value'), 'only a string, number or bool value can be matched');
        return;
      }
    }
    out.push(m);
  });
  return out;
}

function decodeRule(value: unknown, path: string, errors: ConfigErrors): MatchRule | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    errors.add(path, `expected a map (match_type and properties), got ${describe(value)}`);
    return undefined;
  }
  const raw = value as Record<string, unknown>;
  const before = errors.list().length;
  for (const k of Object.keys(raw)) if (!FIELDS.includes(k)) errors.add(join(path, k), `unknown key (known keys: ${FIELDS.join(', ')})`);
  const mt = raw.match_type;
  if (mt !== 'strict' && mt !== 'regexp') {
    errors.add(join(path, 'match_type'), mt === undefined || mt === null ? 'required (strict or regexp)' : `expected strict or regexp, got ${describe(mt)}`);
    return undefined;
  }
  const regexp = mt === 'regexp';
  // Accepted for collector configs; JavaScript regexps need no result cache.
  if (raw.regexp !== undefined && raw.regexp !== null) {
    if (typeof raw.regexp !== 'object' || Array.isArray(raw.regexp)) errors.add(join(path, 'regexp'), `expected a map, got ${describe(raw.regexp)}`);
    else for (const k of Object.keys(raw.regexp)) if (k !== 'cacheenabled' && k !== 'cachemaxnumentries') errors.add(join(join(path, 'regexp'), k), 'unknown key (known keys: cacheenabled, cachemaxnumentries)');
  }
  const rule: MatchRule = {};
  const services = stringList(raw.services, join(path, 'services'), errors);
  if (services?.length) rule.services = textMatcher(services, regexp, join(path, 'services'), errors);
  const names = stringList(raw.span_names, join(path, 'span_names'), errors);
  if (names?.length) rule.spanNames = textMatcher(names, regexp, join(path, 'span_names'), errors);
  const kinds = stringList(raw.span_kinds, join(path, 'span_kinds'), errors);
  if (kinds?.length) {
    if (!regexp) {
      kinds.forEach((k, i) => {
        if (!STRICT_KINDS.includes(k)) errors.add(join(join(path, 'span_kinds'), i), `"${k}" is not one of ${STRICT_KINDS.join(', ')}`);
      });
    }
    rule.spanKinds = textMatcher(kinds, regexp, join(path, 'span_kinds'), errors);
  }
  const attributes = attrMatchers(raw.attributes, regexp, join(path, 'attributes'), errors);
  if (attributes?.length) rule.attributes = attributes;
  const resources = attrMatchers(raw.resources, regexp, join(path, 'resources'), errors);
  if (resources?.length) rule.resources = resources;
  if (raw.libraries !== undefined && raw.libraries !== null) {
    const lp = join(path, 'libraries');
    if (!Array.isArray(raw.libraries)) errors.add(lp, `expected a list of {name, version}, got ${describe(raw.libraries)}`);
    else {
      const libs: NonNullable<MatchRule['libraries']> = [];
      raw.libraries.forEach((item: unknown, i) => {
        const p = join(lp, i);
        if (item === null || typeof item !== 'object' || Array.isArray(item)) {
          errors.add(p, `expected a map {name, version}, got ${describe(item)}`);
          return;
        }
        const l = item as Record<string, unknown>;
        for (const k of Object.keys(l)) if (k !== 'name' && k !== 'version') errors.add(join(p, k), 'unknown key (known keys: name, version)');
        if (typeof l.name !== 'string') {
          errors.add(join(p, 'name'), 'required (a string)');
          return;
        }
        const lib: { name: TextMatcher; version?: TextMatcher } = { name: textMatcher([l.name], regexp, join(p, 'name'), errors) };
        if (typeof l.version === 'string' || typeof l.version === 'number') lib.version = textMatcher([String(l.version)], regexp, join(p, 'version'), errors);
        else if (l.version !== undefined && l.version !== null) errors.add(join(p, 'version'), `expected a string, got ${describe(l.version)}`);
        libs.push(lib);
      });
      if (libs.length > 0) rule.libraries = libs;
    }
  }
  if (rule.services === undefined && rule.spanNames === undefined && rule.spanKinds === undefined && rule.attributes === undefined && rule.resources === undefined && rule.libraries === undefined) {
    errors.add(path, `needs at least one of ${PROPERTY_FIELDS.join(', ')}`);
  }
  return errors.list().length > before ? undefined : rule;
}

/** An `include:` or `exclude:` block. */
export const matchRuleSchema: Schema<MatchRule> = {
  expected: 'a match rule',
  decode(value, path, errors) {
    if (value === undefined || value === null) return undefined;
    return decodeRule(value, path, errors);
  },
};

/** Formats a double as Go's strconv.FormatFloat(d, 'f', -1, 64): shortest digits, never an exponent. */
export function formatFloatF(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (!Number.isFinite(d)) return d > 0 ? '+Inf' : '-Inf';
  if (Object.is(d, -0)) return '-0';
  const s = String(d);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m === null) return s;
  const digits = m[2]! + (m[3] ?? '');
  const exp = Number(m[4]);
  if (exp < 0) return `${m[1]}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return m[1] + digits.padEnd(exp + 1, '0');
  return `${m[1]}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

function attrsMatch(list: AttrList, matchers: readonly AttrMatcher[], slot: AnyValueSlot): boolean {
  for (const m of matchers) {
    const i = list.find(m.key);
    if (i < 0) return false;
    if (m.strict === undefined && m.regex === undefined) continue;
    const bytes = list.readValue(i, slot);
    if (m.regex !== undefined) {
      let text: string;
      switch (slot.kind) {
        case ANY_STRING:
          text = anyString(bytes, slot);
          break;
        case ANY_BOOL:
          text = String(anyBool(bytes, slot));
          break;
        case ANY_INT:
          text = anyIntBig(bytes, slot).toString();
          break;
        case ANY_DOUBLE:
          text = formatFloatF(anyDouble(bytes, slot));
          break;
        default:
          return false;
      }
      if (!m.regex.test(text)) return false;
      continue;
    }
    const want = m.strict!;
    switch (want.kind) {
      case 'string':
        if (slot.kind !== ANY_STRING || anyString(bytes, slot) !== want.v) return false;
        break;
      case 'int':
        if (slot.kind !== ANY_INT || anyIntBig(bytes, slot) !== want.v) return false;
        break;
      case 'double':
        if (slot.kind !== ANY_DOUBLE || anyDouble(bytes, slot) !== want.v) return false;
        break;
      case 'bool':
        if (slot.kind !== ANY_BOOL || anyBool(bytes, slot) !== want.v) return false;
        break;
    }
  }
  return true;
}

const SERVICE_NAME = Buffer.from('service.name', 'utf8');

/**
 * Evaluates one rule over the spans of a batch. Resource and scope properties are evaluated once
 * per ResourceSpans / ScopeSpans of the batch (`begin` resets the caches).
 */
export class RuleEvaluator {
  private readonly rule: MatchRule;
  private readonly slot = new AnyValueSlot();
  private readonly resList = new AttrList();
  private buf: Uint8Array = new Uint8Array(0);
  private view: TraceView | undefined;
  private resOk = new Int8Array(0);
  private scopeOk = new Int8Array(0);

  constructor(rule: MatchRule) {
    this.rule = rule;
  }

  begin(buf: Uint8Array, view: TraceView): void {
    this.buf = buf;
    this.view = view;
    this.resOk = new Int8Array(view.resourceSpansCount).fill(-1);
    this.scopeOk = new Int8Array(view.scopeSpansCount).fill(-1);
  }

  /** Does span `k`, loaded in `span`, match the rule? */
  matches(k: number, span: AttrList): boolean {
    const r = this.rule;
    const view = this.view!;
    const j = view.scopeSpansOf(k);
    if (r.libraries !== undefined) {
      if (this.scopeOk[j] === -1) this.scopeOk[j] = this.scopeMatches(j) ? 1 : 0;
      if (this.scopeOk[j] === 0) return false;
    }
    if (r.services !== undefined || r.resources !== undefined) {
      const i = view.resourceSpansOf(j);
      if (this.resOk[i] === -1) this.resOk[i] = this.resourceMatches(i) ? 1 : 0;
      if (this.resOk[i] === 0) return false;
    }
    if (r.spanNames !== undefined) {
      const name = span.nameStart < 0 ? '' : utf8.decode(span.buf.subarray(span.nameStart, span.nameEnd));
      if (!r.spanNames.matches(name)) return false;
    }
    if (r.spanKinds !== undefined && !r.spanKinds.matches(SPAN_KIND_NAMES[span.kind] ?? '')) return false;
    if (r.attributes !== undefined && !attrsMatch(span, r.attributes, this.slot)) return false;
    return true;
  }

  private resourceMatches(i: number): boolean {
    const view = this.view!;
    const list = this.resList;
    list.load(this.buf, view.resourceStart(i), view.resourceEnd(i), TAG_RESOURCE_ATTRIBUTES, false);
    if (this.rule.services !== undefined) {
      const at = list.find(SERVICE_NAME);
      let name = '<nil-service-name>';
      if (at >= 0) {
        const bytes = list.readValue(at, this.slot);
        name = asString(bytes, this.slot);
      }
      if (!this.rule.services.matches(name)) return false;
    }
    return this.rule.resources === undefined || attrsMatch(list, this.rule.resources, this.slot);
  }

  private scopeMatches(j: number): boolean {
    const view = this.view!;
    const s = view.scopeStart(j);
    const e = view.scopeEnd(j);
    let name = '';
    let version = '';
    if (s >= 0) {
      const r = new WireReader(this.buf, s, e);
      while (r.pos < e) {
        const t = r.tag();
        if (t === TAG_SCOPE_NAME || t === TAG_SCOPE_VERSION) {
          const le = r.lenEnd();
          const text = utf8.decode(this.buf.subarray(r.pos, le));
          if (t === TAG_SCOPE_NAME) name = text;
          else version = text;
          r.pos = le;
        } else {
          r.skip(t & 7, t >>> 3);
        }
      }
    }
    for (const lib of this.rule.libraries!) {
      if (!lib.name.matches(name)) return false;
      if (lib.version !== undefined && !lib.version.matches(version)) return false;
    }
    return true;
  }
}
