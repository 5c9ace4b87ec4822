// The W3C `tracestate` of a span, parsed as far as sampling needs: the OpenTelemetry member `ot`
// (sub-keys `rv` randomness and `th` threshold, other sub-keys kept) and every other vendor's
// member kept as text.
//
// Rules (W3C Trace Context, OpenTelemetry "TraceState handling"), each violation making the whole
// tracestate invalid (the sampler then fails closed or open as configured):
// - at most 32 list-members, separated by "," with optional spaces/tabs around; empty members are
//   allowed and dropped; the whole header at most 1024 characters (the collector's bound);
// - key: `lcalpha *(lcalpha / DIGIT / "_" / "-" / "*" / "/")` up to 256 characters, or
//   `tenant@system` (tenant up to 241 characters starting with lcalpha or DIGIT, system up to 14
//   starting with lcalpha); keys are unique (a repeated key is invalid);
// - value: 1..256 printable ASCII characters other than "," and "=", not ending in a space;
// - `ot` value: up to 256 characters, `key:value` pairs separated by ";", key
//   `lcalpha *(lcalpha / DIGIT)`, value `[a-zA-Z0-9._-]*`; `rv` must be 14 hex digits and `th`
//   1..14 hex digits (for a repeated sub-key the last one counts, as in the collector).
// Serializing puts `ot` first (W3C: a member its owner modified moves to the front) as `rv`, then
// `th`, then the other sub-keys in their order (the collector's order), then the other members in
// their order without surrounding whitespace; when adding `ot` would make 33 members the right-most
// member is removed (W3C), and extra `ot` sub-keys are removed from the right while the `ot` value
// would exceed 256 characters.

export interface OtState {
  /** `rv` text (14 hex digits) or undefined. */
  rv: string | undefined;
  /** `th` text (1..14 hex digits) or undefined. */
  th: string | undefined;
  /** Other `key:value` sub-keys, in order. */
  extras: string[];
}

export interface TraceState {
  /** The `ot` member, or undefined when there is none. */
  ot: OtState | undefined;
  /** Other members, `key=value`, trimmed, in order. */
  others: string[];
}

export const MAX_MEMBERS = 32;
const MAX_HEADER = 1024;
const MAX_VALUE = 256;

function isLcAlpha(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isKeyChar(c: number): boolean {
  return isLcAlpha(c) || isDigit(c) || c === 0x5f || c === 0x2d || c === 0x2a || c === 0x2f;
}

function validKeyChars(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) if (!isKeyChar(s.charCodeAt(i))) return false;
  return true;
}

function validKey(key: string): boolean {
  const at = key.indexOf('@');
  if (at < 0) return key.length >= 1 && key.length <= 256 && isLcAlpha(key.charCodeAt(0)) && validKeyChars(key, 1);
  const tenant = key.slice(0, at);
  const system = key.slice(at + 1);
  const t0 = tenant.charCodeAt(0);
  return (
    tenant.length >= 1 &&
    tenant.length <= 241 &&
    system.length >= 1 &&
    system.length <= 14 &&
    (isLcAlpha(t0) || isDigit(t0)) &&
    isLcAlpha(system.charCodeAt(0)) &&
    validKeyChars(tenant, 1) &&
    validKeyChars(system, 1)
  );
}

function validValue(v: string): boolean {
  if (v.length === 0 || v.length > MAX_VALUE) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x2c || c === 0x3d) return false;
  }
  return v.charCodeAt(v.length - 1) !== 0x20;
}

const OT_VALUE = /^[a-z][a-z0-9]*:[a-zA-Z0-9._-]*(?:;[a-z][a-z0-9]*:[a-zA-Z0-9._-]*)*$/;
const HEX14 = /^[0-9a-fA-F]{14}$/;
const HEX1_14 = /^[0-9a-fA-F]{1,14}$/;

function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return s.slice(a, b);
}

/** Parses the OpenTelemetry member's value, or undefined when it is invalid. */
export function parseOtValue(value: string): OtState | undefined {
  if (value.length > MAX_VALUE || !OT_VALUE.test(value)) return undefined;
  const ot: OtState = { rv: undefined, th: undefined, extras: [] };
  for (const pair of value.split(';')) {
    const colon = pair.indexOf(':');
    const k = pair.slice(0, colon);
    const v = pair.slice(colon + 1);
    if (k === 'rv') {
      if (!HEX14.test(v)) return undefined;
      ot.rv = v;
    } else if (k === 'th') {
      if (!HEX1_14.test(v)) return undefined;
      ot.th = v;
    } else {
      ot.extras.push(pair);
    }
  }
  return ot;
}

/** Parses a tracestate; undefined when it breaks a rule above. "" is a valid empty tracestate. */
export function parseTraceState(text: string): TraceState | undefined {
  const ts: TraceState = { ot: undefined, others: [] };
  if (text.length === 0) return ts;
  if (text.length > MAX_HEADER) return undefined;
  const keys = new Set<string>();
  let members = 0;
  for (const raw of text.split(',')) {
    const member = trimOws(raw);
    if (member.length === 0) continue;
    if (++members > MAX_MEMBERS) return undefined;
    const eq = member.indexOf('=');
    if (eq < 1) return undefined;
    const key = member.slice(0, eq);
    const value = member.slice(eq + 1);
    if (!validKey(key) || !validValue(value) || keys.has(key)) return undefined;
    keys.add(key);
    if (key === 'ot') {
      const ot = parseOtValue(value);
      if (ot === undefined) return undefined;
      ts.ot = ot;
    } else {
      ts.others.push(member);
    }
  }
  return ts;
}

/** The `ot` value text (rv, th, extras), or "" when it holds nothing. */
export function serializeOtValue(ot: OtState): string {
  const parts: string[] = [];
  if (ot.rv !== undefined) parts.push(`rv:${ot.rv}`);
  if (ot.th !== undefined) parts.push(`th:${ot.th}`);
  let extras = ot.extras;
  let base = parts.join(';');
  const size = (xs: string[]) => base.length + xs.reduce((n, x) => n + x.length + 1, 0) - (base.length === 0 && xs.length > 0 ? 1 : 0);
  while (extras.length > 0 && size(extras) > MAX_VALUE) extras = extras.slice(0, -1);
  if (extras.length > 0) base = [...parts, ...extras].join(';');
  return base;
}

/** The tracestate text: `ot` first, then the other members (see the rules above). */
export function serializeTraceState(ts: TraceState): string {
  const ot = ts.ot === undefined ? '' : serializeOtValue(ts.ot);
  if (ot === '') return ts.others.join(',');
  const others = ts.others.length >= MAX_MEMBERS ? ts.others.slice(0, MAX_MEMBERS - 1) : ts.others;
  return others.length === 0 ? `ot=${ot}` : `ot=${ot},${others.join(',')}`;
}
