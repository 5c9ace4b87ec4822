// The bridge's per-request decision (translate.ts) through the header walker (headers.ts):
// fixtures for each rule of the header bridge, then properties over random contexts and junk.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { IdSource } from '../../../../sidecar/extensions/header_bridge/ids.ts';
import { prepareRequestHeaders } from '../../../../sidecar/extensions/header_bridge/headers.ts';
import type { BridgeRules } from '../../../../sidecar/extensions/header_bridge/translate.ts';
import {
  formatB3Multi,
  formatB3Single,
  formatTraceparent,
  formatXRayHeader,
  isTraceContext,
  parseB3Multi,
  parseB3Single,
  parseTraceparent,
  parseXRayHeader,
  type TraceContext,
} from '../../../../sidecar/tracecontext/index.ts';
import { b3ContextArb, hex, junkArb, w3cContextArb, xrayContextArb } from '../../tracecontext/arbitraries.ts';
import { rawValues } from './support.ts';

const RULES: BridgeRules = { formats: ['traceparent', 'xray', 'b3'], primary: 'traceparent', b3Single: undefined, startTraces: false, samplingRatio: 1 };
const NOW = 1_700_000_000;
const VIA = 'tracebridge-test';

/** Deterministic "randomness": 0x11, 0x12, ... so generated IDs are recognisable. */
function fixedIds(): IdSource {
  let n = 0x11;
  return {
    fill(out) {
      for (let i = 0; i < out.length; i++) out[i] = n++ & 0xff || 1;
    },
    nowSeconds: () => NOW,
  };
}

function bridge(raw: string[], rules: Partial<BridgeRules> = {}) {
  const p = prepareRequestHeaders(raw, { ...RULES, ...rules }, fixedIds(), VIA);
  const get = (name: string) => rawValues(p.headers, name);
  return { ...p, get, one: (name: string) => get(name)[0] };
}

const TRACE = '5759e988bd862e3fe1be46a994272793';
const SPAN = '53995c3f42cd8ad8';
const XRAY = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
const TP = `00-${TRACE}-${SPAN}-01`;
const OTHER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const OTHER_SPAN = '00f067aa0ba902b7';
const OTHER_TP = `00-${OTHER_TRACE}-${OTHER_SPAN}-01`;

describe('header_bridge translation', () => {
  describe('one format present: the others are derived', () => {
    it('X-Amzn-Trace-Id → traceparent and b3; the X-Ray line is forwarded byte for byte', () => {
      const xray = ' Root=1-5759E988-bd862e3fe1be46a994272793 ; Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1|b9ad3ca2:3;Self=1-67891234-12456789abcdef012345678';
      const r = bridge(['Host', 'svc', 'X-Amzn-Trace-Id', xray]);
      assert.deepEqual(r.get('x-amzn-trace-id'), [xray]);
      assert.equal(r.one('traceparent'), TP);
      assert.equal(r.one('b3'), `${TRACE}-${SPAN}-1`);
      assert.equal(r.translation.derived, true);
      assert.equal(r.translation.conflictResolved, false);
    });

    it('traceparent + tracestate → X-Ray and b3; tracestate carried', () => {
      const r = bridge(['traceparent', OTHER_TP, 'tracestate', 'congo=t61rcWkgMzE', 'tracestate', 'rojo=00f067aa0ba902b7']);
      assert.equal(r.one('traceparent'), OTHER_TP);
      assert.deepEqual(r.get('tracestate'), ['congo=t61rcWkgMzE', 'rojo=00f067aa0ba902b7']);
      assert.equal(r.one('x-amzn-trace-id'), `Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=${OTHER_SPAN};Sampled=1`);
      assert.equal(r.one('b3'), `${OTHER_TRACE}-${OTHER_SPAN}-1`);
    });

    it('B3 multi in → W3C and X-Ray out; B3 stays multi (the style that came in) with its parent', () => {
      const r = bridge(['X-B3-TraceId', TRACE, 'X-B3-SpanId', SPAN, 'X-B3-ParentSpanId', OTHER_SPAN, 'X-B3-Sampled', '1']);
      assert.equal(r.one('traceparent'), TP);
      assert.equal(r.one('x-amzn-trace-id'), XRAY);
      assert.deepEqual(r.get('x-b3-parentspanid'), [OTHER_SPAN]);
      assert.deepEqual(r.get('b3'), []);
    });

    it('a 64-bit B3 trace ID is left-padded with zeros in W3C and X-Ray', () => {
      const r = bridge(['b3', `a3ce929d0e0e4736-${SPAN}-0`]);
      assert.equal(r.one('traceparent'), `00-0000000000000000a3ce929d0e0e4736-${SPAN}-00`);
      assert.equal(r.one('x-amzn-trace-id'), `Root=1-00000000-00000000a3ce929d0e0e4736;Parent=${SPAN};Sampled=0`);
      assert.equal(r.one('b3'), `a3ce929d0e0e4736-${SPAN}-0`);
    });

    it('B3 debug becomes sampled in W3C and X-Ray and stays debug in B3', () => {
      const r = bridge(['b3', `${TRACE}-${SPAN}-d`]);
      assert.equal(r.one('traceparent'), TP);
      assert.match(r.one('x-amzn-trace-id')!, /;Sampled=1$/);
      assert.equal(r.one('b3'), `${TRACE}-${SPAN}-d`);
    });

    it('an ALB Root-only header: traceparent and b3 get a generated span ID, X-Ray gets no Parent', () => {
      const r = bridge(['X-Amzn-Trace-Id', 'Root=1-5759e988-bd862e3fe1be46a994272793;Self=1-5759e988-aaaaaaaaaaaaaaaaaaaaaaaa']);
      const tp = parseTraceparent(r.one('traceparent')!)!;
      assert.equal(hex(tp.traceId), TRACE);
      assert.equal(hex(tp.spanId!), '1112131415161718', 'the generated span ID');
      assert.equal(tp.sampled, true, 'deferred decision made with sampling_ratio 1');
      assert.equal(r.one('x-amzn-trace-id'), 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1;Self=1-5759e988-aaaaaaaaaaaaaaaaaaaaaaaa');
      assert.equal(r.one('b3'), `${TRACE}-1112131415161718-1`);
    });

    it('a deferred decision (Sampled=?) is decided by sampling_ratio when traceparent is written', () => {
      const r = bridge(['X-Amzn-Trace-Id', `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${SPAN};Sampled=?`], { samplingRatio: 0 });
      assert.equal(r.one('traceparent'), `00-${TRACE}-${SPAN}-00`);
      assert.equal(r.one('x-amzn-trace-id'), `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${SPAN};Sampled=0`);
    });

    it('without traceparent in formats a deferred decision stays deferred', () => {
      const r = bridge(['X-Amzn-Trace-Id', `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${SPAN};Sampled=?`], { formats: ['xray', 'b3'], primary: 'xray' });
      assert.equal(r.one('b3'), `${TRACE}-${SPAN}`);
      assert.deepEqual(r.get('traceparent'), []);
    });
  });

  describe('several present', () => {
    it('all agree: every line is kept as received and nothing is counted', () => {
      const r = bridge(['traceparent', TP, 'x-amzn-trace-id', XRAY, 'b3', `${TRACE}-${SPAN}-1`]);
      assert.deepEqual([r.translation.traceparent, r.translation.xray, r.translation.b3], ['keep', 'keep', 'keep']);
      assert.equal(r.translation.derived || r.translation.conflictResolved || r.translation.started, false);
    });

    it('disagreement: the primary (traceparent) wins; X-Ray keeps its Lineage and unknown fields', () => {
      const r = bridge(['traceparent', OTHER_TP, 'X-Amzn-Trace-Id', `${XRAY};Lineage=a87bd80c:1;Custom=x`, 'b3', `${TRACE}-${SPAN}-1`]);
      assert.equal(r.translation.conflictResolved, true);
      assert.equal(r.one('traceparent'), OTHER_TP);
      assert.equal(r.one('x-amzn-trace-id'), `Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=${OTHER_SPAN};Sampled=1;Lineage=a87bd80c:1;Custom=x`);
      assert.equal(r.one('b3'), `${OTHER_TRACE}-${OTHER_SPAN}-1`);
    });

    it('disagreement with primary xray: X-Ray wins and the losing traceparent drops its tracestate', () => {
      const r = bridge(['traceparent', OTHER_TP, 'tracestate', 'congo=t61rcWkgMzE', 'X-Amzn-Trace-Id', XRAY], { primary: 'xray' });
      assert.equal(r.one('traceparent'), TP);
      assert.deepEqual(r.get('tracestate'), []);
      assert.deepEqual(r.get('x-amzn-trace-id'), [XRAY]);
    });

    it('same trace, different span: a conflict; tracestate stays with the trace', () => {
      const r = bridge(['traceparent', `00-${TRACE}-${OTHER_SPAN}-01`, 'tracestate', 'a=b', 'X-Amzn-Trace-Id', XRAY], { primary: 'xray' });
      assert.equal(r.translation.conflictResolved, true);
      assert.equal(r.one('traceparent'), TP);
      assert.deepEqual(r.get('tracestate'), ['a=b']);
    });

    it('without the primary among them, formats win in config order', () => {
      const r = bridge(['b3', `${TRACE}-${SPAN}-1`, 'X-Amzn-Trace-Id', `Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=${OTHER_SPAN};Sampled=1`], {
        formats: ['traceparent', 'xray', 'b3'],
        primary: 'traceparent',
      });
      assert.equal(r.one('traceparent'), OTHER_TP, 'xray comes before b3 in formats');
      assert.equal(r.one('b3'), `${OTHER_TRACE}-${OTHER_SPAN}-1`);
    });

    it('an X-Ray Root-only header agreeing with a traceparent stays without Parent and takes its decision', () => {
      const r = bridge(['traceparent', TP, 'X-Amzn-Trace-Id', 'Root=1-5759e988-bd862e3fe1be46a994272793']);
      assert.equal(r.translation.conflictResolved, false);
      assert.equal(r.one('x-amzn-trace-id'), 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1');
      assert.equal(r.one('b3'), `${TRACE}-${SPAN}-1`, 'b3 takes the traceparent span');
    });
  });

  describe('malformed headers are removed, never forwarded broken', () => {
    it('a broken traceparent (and its tracestate) is replaced by one derived from X-Ray', () => {
      const r = bridge(['traceparent', '00-xyz-00f067aa0ba902b7-01', 'tracestate', 'a=b', 'X-Amzn-Trace-Id', XRAY]);
      assert.deepEqual(r.translation.malformed, ['traceparent']);
      assert.deepEqual(r.get('traceparent'), [TP]);
      assert.deepEqual(r.get('tracestate'), []);
    });

    it('with nothing valid left, the broken lines are dropped and nothing is invented', () => {
      const r = bridge(['X-Amzn-Trace-Id', 'Root=1-zzzz', 'X-B3-TraceId', TRACE, 'traceparent', TP.toUpperCase(), 'tracestate', 'a=b', 'Accept', '*/*']);
      assert.deepEqual(r.translation.malformed, ['traceparent', 'xray', 'b3']);
      assert.deepEqual(r.headers, ['Accept', '*/*', 'Via', `1.1 ${VIA}`]);
    });

    it('two traceparent lines, or two X-Ray lines, are malformed', () => {
      assert.deepEqual(bridge(['traceparent', TP, 'traceparent', TP]).translation.malformed, ['traceparent']);
      assert.deepEqual(bridge(['X-Amzn-Trace-Id', XRAY, 'x-amzn-trace-id', XRAY]).translation.malformed, ['xray']);
    });

    it('headers of formats not configured pass untouched, even broken', () => {
      const r = bridge(['b3', 'garbage', 'traceparent', TP], { formats: ['traceparent', 'xray'] });
      assert.deepEqual(r.get('b3'), ['garbage']);
      assert.equal(r.one('x-amzn-trace-id'), XRAY);
    });
  });

  describe('none present', () => {
    it('is left alone unless start_traces', () => {
      const r = bridge(['Accept', '*/*', 'tracestate', 'a=b', 'b3', '1']);
      assert.deepEqual(r.headers, ['Accept', '*/*', 'tracestate', 'a=b', 'b3', '1', 'Via', `1.1 ${VIA}`]);
      assert.equal(r.translation.started, false);
    });

    it('start_traces: a new X-Ray-valid trace in every format, sampled by ratio', () => {
      const r = bridge(['Accept', '*/*'], { startTraces: true, samplingRatio: 0 });
      assert.equal(r.translation.started, true);
      const tp = parseTraceparent(r.one('traceparent')!)!;
      assert.equal(new DataView(tp.traceId.buffer).getUint32(0), NOW, 'bytes 0-3 are the epoch');
      assert.equal(tp.sampled, false);
      assert.equal(r.one('x-amzn-trace-id'), formatXRayHeader(tp));
      assert.equal(r.one('b3'), formatB3Single(tp));
    });

    it('start_traces honours a B3 decision without IDs (`b3: 0`) and its style', () => {
      const r = bridge(['X-B3-Sampled', '0'], { startTraces: true, samplingRatio: 1 });
      assert.match(r.one('traceparent')!, /-00$/);
      assert.equal(r.one('x-b3-sampled'), '0');
      assert.equal(r.get('x-b3-traceid').length, 1);
    });
  });

  describe('b3_single', () => {
    it('false writes the multi form; true rewrites an incoming multi form as single', () => {
      const multi = bridge(['traceparent', TP], { b3Single: false });
      assert.deepEqual(
        multi.headers.filter((_, i) => i % 2 === 0 && multi.headers[i]!.startsWith('X-B3')),
        ['X-B3-TraceId', 'X-B3-SpanId', 'X-B3-Sampled'],
      );
      const single = bridge(['X-B3-TraceId', TRACE, 'X-B3-SpanId', SPAN, 'X-B3-Sampled', '1'], { b3Single: true });
      assert.equal(single.one('b3'), `${TRACE}-${SPAN}-1`);
      assert.deepEqual(single.get('x-b3-traceid'), []);
    });
  });

  describe('properties', () => {
    const parseAll = (headers: string[]) => {
      const get = (n: string) => rawValues(headers, n);
      const b3 = get('b3')[0] !== undefined ? parseB3Single(get('b3')[0]!) : parseB3Multi((n) => get(n)[0]);
      return {
        tp: parseTraceparent(get('traceparent')[0]!),
        xray: parseXRayHeader(get('x-amzn-trace-id')[0]!),
        b3: b3 !== undefined && isTraceContext(b3) ? b3 : undefined,
      };
    };
    const sources = fc.oneof(
      w3cContextArb.map((ctx) => ({ ctx, raw: ['traceparent', formatTraceparent(ctx)!, ...(ctx.tracestate ? ['tracestate', ctx.tracestate] : [])] })),
      xrayContextArb.map((ctx) => ({ ctx, raw: ['X-Amzn-Trace-Id', formatXRayHeader(ctx)] })),
      b3ContextArb(true).map((ctx) => ({ ctx, raw: ['b3', formatB3Single(ctx)!] })),
      b3ContextArb(false).map((ctx) => ({ ctx, raw: Object.entries(formatB3Multi(ctx)!).flat() })),
    );

    it('one format in: every format out names the same trace, span and decision', () => {
      fc.assert(
        fc.property(sources, ({ ctx, raw }: { ctx: TraceContext; raw: string[] }) => {
          const { tp, xray, b3 } = parseAll(bridge(raw).headers);
          assert.ok(tp && xray && b3, 'all three present and valid');
          for (const c of [tp, xray, b3]) assert.equal(hex(c.traceId), hex(ctx.traceId));
          if (ctx.spanId !== undefined) for (const c of [tp, xray, b3]) assert.equal(hex(c.spanId!), hex(ctx.spanId));
          else assert.equal(hex(tp.spanId!), hex(b3.spanId!));
          const sampled = tp.sampled;
          if (ctx.sampled !== undefined) assert.equal(sampled, ctx.sampled);
          assert.equal(xray.sampled, sampled);
          assert.equal(b3.sampled, sampled);
        }),
        { numRuns: 300 },
      );
    });

    it('idempotent: bridging the output again changes nothing', () => {
      fc.assert(
        fc.property(sources, fc.boolean(), ({ raw }: { raw: string[] }, startTraces) => {
          const once = bridge(raw, { startTraces }).headers.slice(0, -2); // without Via
          const twice = bridge(once, { startTraces });
          assert.deepEqual(twice.headers.slice(0, -2), once);
          assert.equal(twice.translation.derived || twice.translation.conflictResolved || twice.translation.started, false);
        }),
        { numRuns: 200 },
      );
    });

    it('junk in any propagation header never comes out unparseable', () => {
      const names = ['traceparent', 'X-Amzn-Trace-Id', 'b3', 'X-B3-TraceId', 'X-B3-SpanId', 'X-B3-Sampled'];
      const junk = fc.array(fc.tuple(fc.constantFrom(...names), junkArb(fc.constantFrom(TP, XRAY, `${TRACE}-${SPAN}-1`, TRACE, SPAN))), { maxLength: 4 });
      fc.assert(
        fc.property(junk, fc.boolean(), (pairsIn, startTraces) => {
          const out = bridge(pairsIn.flat(), { startTraces }).headers;
          const tp = rawValues(out, 'traceparent');
          const xr = rawValues(out, 'x-amzn-trace-id');
          const b3 = rawValues(out, 'b3');
          assert.ok(tp.length <= 1 && tp.every((v) => parseTraceparent(v) !== undefined));
          assert.ok(xr.length <= 1 && xr.every((v) => parseXRayHeader(v) !== undefined));
          assert.ok(b3.length <= 1 && b3.every((v) => parseB3Single(v) !== undefined));
          if (rawValues(out, 'x-b3-traceid').length + rawValues(out, 'x-b3-spanid').length + rawValues(out, 'x-b3-sampled').length > 0) {
            assert.notEqual(parseB3Multi((n) => rawValues(out, n)[0]), undefined);
          }
        }),
        { numRuns: 300 },
      );
    });
  });
});
