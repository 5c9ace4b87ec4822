// fast-check arbitraries shared by the tracecontext tests.
import fc from 'fast-check';
import type { TraceContext, XRayField } from '../../../sidecar/tracecontext/context.ts';

const nonZero = (b: Uint8Array): boolean => b.some((x) => x !== 0);

/** 16 random bytes, not all zero. */
export const traceIdArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).filter(nonZero);
/** 8 random bytes, not all zero. */
export const spanIdArb = fc.uint8Array({ minLength: 8, maxLength: 8 }).filter(nonZero);
/** Trace IDs biased towards the shapes that matter: 64-bit (first 8 bytes zero) and sparse bytes. */
export const anyTraceIdArb = fc.oneof(
  traceIdArb,
  spanIdArb.map((low) => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, ...low])),
  fc.array(fc.constantFrom(0, 1, 0x80, 0xff), { minLength: 16, maxLength: 16 }).map((a) => Uint8Array.from(a)).filter(nonZero),
);

/** Whole epoch seconds between 2001 and 2100 (well inside the 4-byte range). */
export const epochSecondsArb = fc.integer({ min: 1_000_000_000, max: 4_102_444_800 });
/** Rewrite windows: the default, the extremes, and anything between. */
export const windowArb = fc.oneof(fc.constantFrom(86_400, 1, 60, 3600, 2_419_200), fc.integer({ min: 1, max: 2_419_200 }));

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Toggles the case of random hex letters. */
export function mixCase(s: string, mask: number): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += (mask >>> i % 31) & 1 ? s[i]!.toUpperCase() : s[i]!;
  return out;
}

/** Header-field-ish tokens for X-Ray extra fields: no `;`, `=` at most in the value, no OWS at the ends. */
const tokenArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.:|-]{0,15}$/);
const xrayValueArb = fc.stringMatching(/^[A-Za-z0-9_.:|=-]{0,20}$/);
const reserved = new Set(['root', 'parent', 'sampled']);
export const xrayFieldArb: fc.Arbitrary<XRayField> = fc
  .record({ key: tokenArb, value: xrayValueArb })
  .filter((f) => !reserved.has(f.key.toLowerCase()))
  .map(({ key, value }) => ({ key, value })); // fc.record builds null-prototype objects

/** A context as an X-Amzn-Trace-Id header can carry it. */
export const xrayContextArb: fc.Arbitrary<TraceContext> = fc
  .record({
    traceId: traceIdArb,
    spanId: fc.option(spanIdArb, { nil: undefined }),
    sampled: fc.constantFrom<'0' | '1' | '?' | undefined>('0', '1', '?', undefined),
    fields: fc.array(xrayFieldArb, { maxLength: 4 }),
  })
  .map(({ traceId, spanId, sampled, fields }) => {
    const ctx: TraceContext = { traceId };
    if (spanId) ctx.spanId = spanId;
    if (sampled === '0' || sampled === '1') ctx.sampled = sampled === '1';
    if (sampled === '?' || fields.length > 0) {
      ctx.xray = {};
      if (sampled === '?') ctx.xray.sampledRequested = true;
      if (fields.length > 0) ctx.xray.fields = fields;
    }
    return ctx;
  });

/** A context as a version-00 traceparent (plus tracestate) can carry it. */
export const w3cContextArb: fc.Arbitrary<TraceContext> = fc
  .record({
    traceId: traceIdArb,
    spanId: spanIdArb,
    flags: fc.integer({ min: 0, max: 3 }),
    tracestate: fc.option(fc.stringMatching(/^[a-z0-9]{1,8}=[!-+\--~]{1,16}(,[a-z0-9]{1,8}=[!-+\--~]{1,16}){0,3}$/), { nil: undefined }),
  })
  .map(({ traceId, spanId, flags, tracestate }) => {
    const ctx: TraceContext = { traceId, spanId, sampled: (flags & 1) === 1, traceFlags: flags };
    if (tracestate !== undefined) ctx.tracestate = tracestate;
    return ctx;
  });

/** A context as B3 can carry it; `single` leaves out a parent without a sampling state. */
export function b3ContextArb(single: boolean): fc.Arbitrary<TraceContext> {
  return fc
    .record({
      traceId: anyTraceIdArb,
      spanId: spanIdArb,
      parentSpanId: fc.option(spanIdArb, { nil: undefined }),
      sampling: fc.constantFrom<'0' | '1' | 'd' | undefined>('0', '1', 'd', undefined),
    })
    .map(({ traceId, spanId, parentSpanId, sampling }) => {
      const ctx: TraceContext = { traceId, spanId };
      if (parentSpanId && !(single && sampling === undefined)) ctx.parentSpanId = parentSpanId;
      if (sampling === 'd') {
        ctx.sampled = true;
        ctx.debug = true;
      } else if (sampling !== undefined) {
        ctx.sampled = sampling === '1';
      }
      return ctx;
    });
}

/**
 * Single characters for junk: printable ASCII plus the awkward ones (controls, whitespace other
 * than space, non-ASCII letters whose low byte is a hex digit, a lone surrogate, an emoji).
 * (fast-check's `binary` string unit is avoided: its first use builds a reverse mapping of every
 * code point, over a second of CPU.)
 */
const oddCharArb = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('\t', '\n', '\r', '\0', '\u00a0', '\u0131', '\u0161', '\u0466', '\ud83d', '\u{1f600}', '\uff10'),
);

/** Arbitrary junk plus near-misses: printable strings, and valid-looking values with a character changed or cut. */
export function junkArb(validArb: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const mutated = fc.tuple(validArb, fc.nat(), fc.string({ maxLength: 2, unit: oddCharArb })).map(([s, i, r]) => {
    const at = s.length === 0 ? 0 : i % s.length;
    return s.slice(0, at) + r + s.slice(at + 1);
  });
  const truncated = fc.tuple(validArb, fc.nat()).map(([s, i]) => s.slice(0, s.length === 0 ? 0 : i % s.length));
  return fc.oneof(fc.string({ maxLength: 80 }), fc.string({ maxLength: 80, unit: oddCharArb }), mutated, truncated);
}
