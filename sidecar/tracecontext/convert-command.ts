// `tracebridge-sidecar convert VALUE`: prints a trace ID or propagation header in every format
// tracebridge speaks, whether legacy X-Ray ingestion accepts the ID now, and what
// `on_invalid: rewrite` would make of it. Pure apart from the two line sinks, so it is tested
// without spawning a process; sidecar/main.ts wires it to stdout/stderr and process.exitCode.

import type { TraceContext } from './context.ts';
import { effectiveSampled, isTraceContext } from './context.ts';
import { formatB3Multi, formatB3SamplingOnly, formatB3Single, parseB3Single } from './b3.ts';
import { formatXRayTraceId, hexToTraceId, parseXRayTraceId, spanIdToHex, traceIdToHex, traceIdsEqual } from './ids.ts';
import { DEFAULT_REWRITE_WINDOW_SECONDS, rewrittenTraceId } from './rewrite.ts';
import { formatTraceparent, parseTraceparent } from './w3c.ts';
import { formatXRayHeader, parseXRayHeader } from './xray-header.ts';
import { XRAY_MAX_AGE_SECONDS, XRAY_MAX_SKEW_SECONDS, xrayEpochSeconds, xrayValidity } from './xray-validity.ts';

export const CONVERT_USAGE = [
  'usage: tracebridge-sidecar convert VALUE',
  '  VALUE: a trace ID (32 or 16 hex), an X-Ray trace ID (1-<8 hex>-<24 hex>),',
  '         an X-Amzn-Trace-Id value, a traceparent, or a b3 single-header value,',
  '         optionally prefixed by its header name ("traceparent: ...", "X-Amzn-Trace-Id: ...", "b3: ...").',
  '  Prints the trace ID and headers in W3C, X-Ray and B3 form, whether legacy X-Ray ingestion',
  '  accepts the ID now, and the ID that tracecontext on_invalid: rewrite would produce.',
  '  Exit status: 0 converted, 1 malformed value, 2 usage error.',
];

type Kind = 'trace ID' | 'X-Ray trace ID' | 'X-Amzn-Trace-Id header' | 'traceparent' | 'b3 header';

const EXPECTED: Record<Kind, string> = {
  'trace ID': '32 or 16 hex digits, not all zero',
  'X-Ray trace ID': '1-<8 hex>-<24 hex>, not all zero',
  'X-Amzn-Trace-Id header': 'Root=1-<8 hex>-<24 hex>[;Parent=<16 hex>][;Sampled=0|1|?][;other=fields]',
  traceparent: '<2 hex version>-<32 hex trace ID>-<16 hex span ID>-<2 hex flags>, lowercase, IDs not all zero',
  'b3 header': '<16 or 32 hex trace ID>-<16 hex span ID>[-0|1|d[-<16 hex parent>]], or 0, 1, d',
};

const HEADER_PREFIX = /^(traceparent|x-amzn-trace-id|b3)[ \t]*:[ \t]*/i;

/**
 * Which format a bare value is in, judged by its shape alone (undefined: none), so that a
 * malformed value gets the message of the format it was meant to be. The shapes do not overlap:
 * a traceparent starts with 2 hex and a dash, a b3 value with 16 or 32 hex and a dash.
 */
function detectKind(v: string): Kind | undefined {
  if (/^[01d]$/.test(v)) return 'b3 header'; // a bare b3 sampling decision
  if (/^[0-9a-f]+$/i.test(v)) return 'trace ID';
  if (v.startsWith('1-') && !v.includes('=')) return 'X-Ray trace ID';
  if (v.includes('=')) return 'X-Amzn-Trace-Id header';
  if (/^[0-9a-f]{2}-/i.test(v)) return 'traceparent';
  if (/^[0-9a-f]{16}(?:[0-9a-f]{16})?-/i.test(v)) return 'b3 header';
  return undefined;
}

function kindOfHeader(name: string): Kind {
  const n = name.toLowerCase();
  return n === 'traceparent' ? 'traceparent' : n === 'b3' ? 'b3 header' : 'X-Amzn-Trace-Id header';
}

function describeDuration(seconds: number): string {
  const s = Math.abs(seconds);
  if (s < 120) return `${s} seconds`;
  if (s < 2 * 3600) return `${Math.floor(s / 60)} minutes`;
  if (s < 2 * 86400) return `${Math.floor(s / 3600)} hours`;
  return `${Math.floor(s / 86400)} days`;
}

function sampledText(ctx: TraceContext): string {
  if (ctx.debug === true) return 'yes (debug)';
  const s = effectiveSampled(ctx);
  if (s !== undefined) return s ? 'yes' : 'no';
  return ctx.xray?.sampledRequested === true ? 'deferred (Sampled=?: decision requested downstream)' : 'deferred (no decision in the input)';
}

/** Aligned `label: value` lines. */
function emitTable(rows: ReadonlyArray<readonly [string, string]>, out: (line: string) => void): void {
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  for (const [label, value] of rows) out(`${`${label}:`.padEnd(width)}${value}`);
}

function legacyLine(traceId: Uint8Array, nowSeconds: number): string {
  const epoch = xrayEpochSeconds(traceId);
  const when = new Date(epoch * 1000).toISOString();
  const delta = nowSeconds - epoch;
  const rel = delta >= 0 ? `${describeDuration(delta)} before now` : `${describeDuration(delta)} after now`;
  switch (xrayValidity(traceId, nowSeconds)) {
    case 'valid':
      return `accepted (embedded time ${when}, ${rel})`;
    case 'too-old':
      return `rejected: embedded time ${when} is ${rel}, more than ${XRAY_MAX_AGE_SECONDS / 86400} days`;
    case 'in-future':
      return `rejected: embedded time ${when} is ${rel}, more than ${XRAY_MAX_SKEW_SECONDS / 60} minutes`;
  }
}

function rewriteLine(traceId: Uint8Array, nowSeconds: number): string {
  const rewritten = rewrittenTraceId(traceId, nowSeconds, DEFAULT_REWRITE_WINDOW_SECONDS);
  // Not reachable for a parsed (non-zero) ID and a clock between 1970 and 2106.
  if (rewritten === undefined) return 'not possible (the current time cannot anchor a rewrite)';
  const how = 'for a span starting now, rewrite_window 24h';
  if (traceIdsEqual(rewritten, 0, traceId, 0)) return `unchanged: already legacy-valid (${how})`;
  return `${formatXRayTraceId(rewritten)} = ${traceIdToHex(rewritten)} (${how})`;
}

function parse(kind: Kind, v: string): TraceContext | ReturnType<typeof parseB3Single> {
  switch (kind) {
    case 'trace ID': {
      const traceId = hexToTraceId(v);
      return traceId && { traceId };
    }
    case 'X-Ray trace ID': {
      const traceId = parseXRayTraceId(v);
      return traceId && { traceId };
    }
    case 'X-Amzn-Trace-Id header':
      return parseXRayHeader(v);
    case 'traceparent':
      return parseTraceparent(v);
    case 'b3 header':
      return parseB3Single(v);
  }
}

/**
 * Runs `convert` with the arguments after the command name. Writes result lines to `out` and a
 * one-line diagnostic to `err`. Returns the exit status: 0 converted, 1 malformed value, 2 usage
 * error. `now` is the reference time for the legacy check and the rewrite.
 */
export function runConvert(args: string[], out: (line: string) => void, err: (line: string) => void, now: Date = new Date()): number {
  if (args.some((a) => a === '-h' || a === '--help')) {
    for (const line of CONVERT_USAGE) out(line);
    return 0;
  }
  // No supported value starts with '-', so anything that does is an option, and none exist.
  const option = args.find((a) => a.startsWith('-'));
  if (option !== undefined) {
    err(`convert: unknown option ${JSON.stringify(option)}`);
    for (const line of CONVERT_USAGE) err(line);
    return 2;
  }
  // Several arguments are joined: an unquoted `X-Amzn-Trace-Id: Root=...` arrives as two.
  const raw = args.join(' ').trim();
  if (raw === '') {
    err('convert: missing VALUE');
    for (const line of CONVERT_USAGE) err(line);
    return 2;
  }

  const prefixed = HEADER_PREFIX.exec(raw);
  const value = prefixed ? raw.slice(prefixed[0].length) : raw;
  const kind = prefixed ? kindOfHeader(prefixed[1]!) : detectKind(value);
  const shown = JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}...` : value);
  if (kind === undefined) {
    err(
      `convert: ${shown} is not a trace ID (32 or 16 hex), an X-Ray trace ID (1-<8 hex>-<24 hex>), ` +
        'an X-Amzn-Trace-Id value (Root=...), a traceparent (00-...) or a b3 value (<trace>-<span>...)',
    );
    return 1;
  }
  const parsed = parse(kind, value);
  if (parsed === undefined) {
    err(`convert: ${shown} is not a valid ${kind}: expected ${EXPECTED[kind]}`);
    return 1;
  }
  if (!isTraceContext(parsed)) {
    emitTable(
      [
        ['input', 'b3 sampling decision only (no IDs)'],
        ['sampled', parsed.debug ? 'yes (debug)' : parsed.sampled ? 'yes' : 'no'],
        ['b3', formatB3SamplingOnly(parsed)],
        ['note', 'no trace ID to convert; traceparent and X-Amzn-Trace-Id cannot carry a decision alone'],
      ],
      out,
    );
    return 0;
  }

  const ctx = parsed;
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const noSpan = '(none: the input has no span ID)';
  const rows: Array<readonly [string, string]> = [['input', kind]];
  const is64Bit = ctx.traceId.subarray(0, 8).every((b) => b === 0);
  if (is64Bit) rows.push(['note', '64-bit trace ID, left-padded with 8 zero bytes to 16']);
  rows.push(
    ['trace ID (W3C)', traceIdToHex(ctx.traceId)],
    ['trace ID (X-Ray)', formatXRayTraceId(ctx.traceId)],
    ['span ID', ctx.spanId ? spanIdToHex(ctx.spanId) : '(none)'],
  );
  if (ctx.parentSpanId) rows.push(['parent span ID', spanIdToHex(ctx.parentSpanId)]);
  rows.push(['sampled', sampledText(ctx)], ['traceparent', formatTraceparent(ctx) ?? noSpan]);
  rows.push(['X-Amzn-Trace-Id', formatXRayHeader(ctx)], ['b3', formatB3Single(ctx) ?? noSpan]);
  const multi = formatB3Multi(ctx);
  if (multi) for (const [name, v] of Object.entries(multi)) rows.push([name, v]);
  rows.push(
    ['legacy X-Ray now', legacyLine(ctx.traceId, nowSeconds)],
    ['on_invalid: rewrite', rewriteLine(ctx.traceId, nowSeconds)],
  );
  emitTable(rows, out);
  return 0;
}
