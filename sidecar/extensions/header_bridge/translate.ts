// The bridge's one decision per request, as a pure function of the propagation headers that came
// in:
//   one format present          → derive the others from it;
//   several that disagree       → the configured primary wins, then formats in config order;
//   none                        → optionally start a trace;
//   malformed                   → treated as absent and removed, never forwarded broken.
// Every conversion is the tracecontext library's; this file only decides which context wins and
// which header lines go out. A header that already says what the winning context says is kept
// byte for byte ('keep'), so a request that needs nothing is forwarded unchanged.
//
// Choices the library leaves to the caller, and why:
// - Agreement means the same trace ID, and the same span ID and sampling decision wherever both
//   sides state one. Agreeing headers are merged (an X-Ray Root-only header takes the span ID of
//   a traceparent for the same trace), so every header written says the same thing.
// - X-Ray fields other than Root/Parent/Sampled (Lineage, Self, unknown) are request metadata
//   (Lambda's loop detection counts Lineage), so they are kept even when the X-Ray IDs lose.
// - tracestate goes with its traceparent: kept while the written traceparent continues the same
//   trace, dropped otherwise (its entries would describe another trace).
// - A context with no span ID (ALB's Root-only header) gets a random span ID where a format needs
//   one (traceparent, b3). A Root-only X-Ray header never gains a Parent while its trace wins or
//   agrees: X-Ray SDKs keep treating the request as the trace's entry, as the front door meant,
//   and a second bridge on the path finds the headers consistent and changes nothing.
// - A deferred sampling decision (X-Ray `Sampled=?` or absent, B3 without a state) cannot be
//   written as a traceparent, which has no "deferred": when traceparent is a configured format the
//   decision is made with `sampling_ratio` against the trace ID (deterministic, so every bridge
//   on the trace decides alike) and written to every format, keeping them consistent.
// - A B3 value with only a decision (`b3: 0`, `X-B3-Sampled: 1`) carries no IDs: it gives the
//   decision when no other format has one, and is replaced by full B3 when another format has IDs.
import type { B3SamplingOnly, TraceContext } from '../../tracecontext/index.ts';
import {
  effectiveSampled,
  formatB3Multi,
  formatB3Single,
  formatTraceparent,
  formatXRayHeader,
  isTraceContext,
  parseB3Multi,
  parseB3Single,
  parseTraceparent,
  parseXRayHeader,
  traceIdsEqual,
} from '../../tracecontext/index.ts';
import type { Format } from './config.ts';
import { newSpanId, newTraceId, sampledByRatio, type IdSource } from './ids.ts';

export interface BridgeRules {
  formats: readonly Format[];
  primary: Format;
  /** undefined: keep the incoming B3 style, else single. */
  b3Single: boolean | undefined;
  startTraces: boolean;
  samplingRatio: number;
}

/** Values of the propagation header lines of one request, one entry per line received. */
export interface IncomingPropagation {
  traceparent?: string[];
  tracestate?: string[];
  xray?: string[];
  b3?: string[];
  /** `x-b3-*` lines by lowercase name. */
  b3Multi?: Record<string, string[]>;
}

export type HeaderLine = readonly [name: string, value: string];
/** 'keep': send the received lines of this format unchanged; a list: send these instead (empty: remove). */
export type FormatAction = 'keep' | readonly HeaderLine[];

export interface Translation {
  traceparent: FormatAction;
  xray: FormatAction;
  b3: FormatAction;
  /** A format that was absent (or carried only a B3 decision) was written. */
  derived: boolean;
  /** Present formats disagreed; the others were rewritten from the winner. */
  conflictResolved: boolean;
  started: boolean;
  /** Formats whose headers were malformed and removed. */
  malformed: Format[];
  /** Which received B3 form `b3: 'keep'` refers to; lines of the other form are dropped. */
  b3Kept: 'single' | 'multi';
}

interface Found {
  format: Format;
  ctx: TraceContext;
}

const KEEP_ALL: Omit<Translation, 'malformed' | 'b3Kept'> = { traceparent: 'keep', xray: 'keep', b3: 'keep', derived: false, conflictResolved: false, started: false };
/** Lowercase `x-b3-*` names → the spelling written (the B3 spec's). */
export const B3_MULTI_NAMES: Readonly<Record<string, string>> = {
  'x-b3-traceid': 'X-B3-TraceId',
  'x-b3-spanid': 'X-B3-SpanId',
  'x-b3-parentspanid': 'X-B3-ParentSpanId',
  'x-b3-sampled': 'X-B3-Sampled',
  'x-b3-flags': 'X-B3-Flags',
};

export function translate(inc: IncomingPropagation, rules: BridgeRules, ids: IdSource): Translation {
  const malformed: Format[] = [];
  const found: Found[] = [];
  let b3Decision: B3SamplingOnly | undefined;
  let b3CameMulti = false;

  for (const format of rules.formats) {
    if (format === 'traceparent' && inc.traceparent !== undefined) {
      // Two traceparent lines cannot both be right: W3C treats that as invalid.
      const ctx = inc.traceparent.length === 1 ? parseTraceparent(inc.traceparent[0]!, inc.tracestate?.join(',')) : undefined;
      if (ctx === undefined) malformed.push(format);
      else found.push({ format, ctx });
    } else if (format === 'xray' && inc.xray !== undefined) {
      const ctx = inc.xray.length === 1 ? parseXRayHeader(inc.xray[0]!) : undefined;
      if (ctx === undefined) malformed.push(format);
      else found.push({ format, ctx });
    } else if (format === 'b3' && (inc.b3 !== undefined || inc.b3Multi !== undefined)) {
      // The single header takes precedence over the multi form (B3 spec); a broken single header
      // still lets a valid multi form through.
      let parsed = inc.b3 !== undefined && inc.b3.length === 1 ? parseB3Single(inc.b3[0]!) : undefined;
      const multi = inc.b3Multi;
      if (parsed === undefined && inc.b3 !== undefined) malformed.push(format);
      if (parsed === undefined && multi !== undefined) {
        b3CameMulti = true;
        const repeated = Object.values(multi).some((v) => v.length > 1);
        parsed = repeated ? undefined : parseB3Multi((name) => multi[name]?.[0]);
      }
      if (parsed === undefined) {
        if (!malformed.includes(format)) malformed.push(format);
      } else if (isTraceContext(parsed)) found.push({ format, ctx: parsed });
      else b3Decision = parsed;
    }
  }
  const b3Single = rules.b3Single ?? !b3CameMulti;
  const b3Kept = b3CameMulti ? 'multi' : 'single';

  if (found.length === 0) {
    if (!rules.startTraces) {
      // Nothing to derive from: forward what is valid untouched, drop what is malformed.
      const drop = (f: Format): FormatAction => (malformed.includes(f) ? [] : 'keep');
      const b3: FormatAction = b3Decision !== undefined ? 'keep' : drop('b3');
      return { ...KEEP_ALL, traceparent: drop('traceparent'), xray: drop('xray'), b3, malformed, b3Kept };
    }
    const traceId = newTraceId(ids);
    const ctx: TraceContext = { traceId, spanId: newSpanId(ids), sampled: b3Decision?.sampled ?? sampledByRatio(traceId, rules.samplingRatio) };
    if (b3Decision?.debug === true) ctx.debug = true;
    return { ...write(ctx, ctx, [], rules, b3Single), derived: false, conflictResolved: false, started: true, malformed, b3Kept };
  }

  const order = [rules.primary, ...rules.formats.filter((f) => f !== rules.primary)];
  found.sort((a, b) => order.indexOf(a.format) - order.indexOf(b.format));
  const winner = found[0]!;
  const merged: TraceContext = { ...winner.ctx };
  let conflictResolved = false;
  for (const other of found.slice(1)) {
    if (agrees(merged, other.ctx)) mergeInto(merged, other.ctx);
    else conflictResolved = true;
  }
  const xrayFound = found.find((f) => f.format === 'xray');
  if (xrayFound !== undefined && merged.xray === undefined && xrayFound.ctx.xray?.fields !== undefined) {
    merged.xray = { fields: xrayFound.ctx.xray.fields };
  }
  if (effectiveSampled(merged) === undefined) {
    if (b3Decision !== undefined) {
      merged.sampled = b3Decision.sampled;
      if (b3Decision.debug) merged.debug = true;
    } else if (rules.formats.includes('traceparent')) {
      merged.sampled = sampledByRatio(merged.traceId, rules.samplingRatio);
    }
  }
  // Formats that need a span ID get a random one when nothing carried one (see the header comment).
  const withSpan: TraceContext = merged.spanId !== undefined ? merged : { ...merged, spanId: newSpanId(ids) };
  const out = write(merged, withSpan, found, rules, b3Single, b3CameMulti);
  const derived = rules.formats.some((f) => out[f] !== 'keep' && !found.some((x) => x.format === f));
  return { ...out, derived, conflictResolved, started: false, malformed, b3Kept };
}

function write(
  merged: TraceContext,
  withSpan: TraceContext,
  found: readonly Found[],
  rules: BridgeRules,
  b3Single: boolean,
  b3CameMulti = false,
): Pick<Translation, Format> {
  const out: Pick<Translation, Format> = { traceparent: 'keep', xray: 'keep', b3: 'keep' };
  const incoming = (f: Format) => found.find((x) => x.format === f)?.ctx;
  for (const format of rules.formats) {
    const prior = incoming(format);
    if (format === 'traceparent') {
      const value = formatTraceparent(withSpan)!;
      if (prior !== undefined && formatTraceparent(prior) === value) continue;
      const lines: HeaderLine[] = [['traceparent', value]];
      if (prior?.tracestate !== undefined && traceIdsEqual(prior.traceId, 0, merged.traceId, 0)) lines.push(['tracestate', prior.tracestate]);
      out.traceparent = lines;
    } else if (format === 'xray') {
      // A Root-only header stays without Parent while its trace wins or agrees (header comment).
      const rootOnly = prior !== undefined && prior.spanId === undefined && traceIdsEqual(prior.traceId, 0, merged.traceId, 0);
      const value = formatXRayHeader(rootOnly ? withoutSpan(merged) : merged);
      if (prior !== undefined && formatXRayHeader(prior) === value) continue;
      out.xray = [['X-Amzn-Trace-Id', value]];
    } else if (b3Single) {
      const value = formatB3Single(withSpan)!;
      if (prior !== undefined && !b3CameMulti && formatB3Single(prior) === value) continue;
      out.b3 = [['b3', value]];
    } else {
      const lines = Object.entries(formatB3Multi(withSpan)!).map(([k, v]): HeaderLine => [B3_MULTI_NAMES[k] ?? k, v]);
      const priorLines = prior !== undefined && b3CameMulti ? Object.entries(formatB3Multi(prior)!) : undefined;
      if (priorLines !== undefined && sameLines(priorLines, lines)) continue;
      out.b3 = lines;
    }
  }
  return out;
}

function withoutSpan(ctx: TraceContext): TraceContext {
  const { spanId: _s, parentSpanId: _p, ...rest } = ctx;
  return rest;
}

function sameLines(a: readonly (readonly [string, string])[], b: readonly HeaderLine[]): boolean {
  return a.length === b.length && a.every(([k, v], i) => b[i]![0].toLowerCase() === k && b[i]![1] === v);
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Same trace, and the same span and decision wherever both state one. */
export function agrees(a: TraceContext, b: TraceContext): boolean {
  if (!traceIdsEqual(a.traceId, 0, b.traceId, 0) || !sameBytes(a.spanId, b.spanId)) return false;
  const x = effectiveSampled(a);
  const y = effectiveSampled(b);
  return x === undefined || y === undefined || x === y;
}

/** Fills what `into` lacks from an agreeing context. */
function mergeInto(into: TraceContext, from: TraceContext): void {
  if (into.spanId === undefined && from.spanId !== undefined) {
    into.spanId = from.spanId;
    if (from.parentSpanId !== undefined) into.parentSpanId = from.parentSpanId;
  } else if (into.parentSpanId === undefined && from.parentSpanId !== undefined) {
    into.parentSpanId = from.parentSpanId;
  }
  if (into.sampled === undefined && from.sampled !== undefined) into.sampled = from.sampled;
  if (from.debug === true) into.debug = true;
  if (into.traceFlags === undefined && from.traceFlags !== undefined) into.traceFlags = from.traceFlags;
  if (into.tracestate === undefined && from.tracestate !== undefined) into.tracestate = from.tracestate;
  if (into.xray === undefined && from.xray !== undefined) into.xray = from.xray;
}
