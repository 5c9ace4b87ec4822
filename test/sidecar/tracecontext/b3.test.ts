import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatB3Multi, formatB3SamplingOnly, formatB3Single, parseB3Multi, parseB3Single } from '../../../sidecar/tracecontext/b3.ts';
import type { TraceContext } from '../../../sidecar/tracecontext/context.ts';
import { isTraceContext } from '../../../sidecar/tracecontext/context.ts';
import { b3ContextArb, hex, junkArb } from './arbitraries.ts';

// Examples from openzipkin/b3-propagation README.
const SINGLE = '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90';
const MULTI: Record<string, string> = {
  'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
  'x-b3-parentspanid': '05e3ac9a4f6e3b90',
  'x-b3-spanid': 'e457b5a2e4d86bd1',
  'x-b3-sampled': '1',
};

const getter = (headers: Record<string, string>) => (name: string) => headers[name];

function ctxOf(v: ReturnType<typeof parseB3Single>): TraceContext {
  assert.ok(v && isTraceContext(v), 'expected IDs');
  return v;
}

describe('tracecontext B3', () => {
  describe('fixtures', () => {
    it('parses the specification examples, single and multi, to the same context', () => {
      const single = ctxOf(parseB3Single(SINGLE));
      const multi = ctxOf(parseB3Multi(getter(MULTI)));
      assert.deepEqual(single, multi);
      assert.equal(hex(single.traceId), '80f198ee56343ba864fe8b2a57d3eff7');
      assert.equal(hex(single.spanId!), 'e457b5a2e4d86bd1');
      assert.equal(hex(single.parentSpanId!), '05e3ac9a4f6e3b90');
      assert.equal(single.sampled, true);
      assert.equal(formatB3Single(single), SINGLE);
      assert.deepEqual(formatB3Multi(single), MULTI);
    });

    it('left-pads 64-bit trace IDs and writes them back as 64-bit', () => {
      const ctx = ctxOf(parseB3Single('a3ce929d0e0e4736-00f067aa0ba902b7-1'));
      assert.equal(hex(ctx.traceId), '0000000000000000a3ce929d0e0e4736');
      assert.equal(formatB3Single(ctx), 'a3ce929d0e0e4736-00f067aa0ba902b7-1');
      assert.equal(formatB3Multi(ctx)!['x-b3-traceid'], 'a3ce929d0e0e4736');
      assert.deepEqual(ctxOf(parseB3Multi(getter({ 'x-b3-traceid': 'a3ce929d0e0e4736', 'x-b3-spanid': '00f067aa0ba902b7' }))).traceId, ctx.traceId);
    });

    it('reads bare decisions b3: 0, 1, d and writes them back', () => {
      assert.deepEqual(parseB3Single('0'), { samplingOnly: true, sampled: false, debug: false });
      assert.deepEqual(parseB3Single('1'), { samplingOnly: true, sampled: true, debug: false });
      assert.deepEqual(parseB3Single(' d '), { samplingOnly: true, sampled: true, debug: true });
      for (const v of ['0', '1', 'd']) {
        const p = parseB3Single(v)!;
        assert.ok(!isTraceContext(p));
        assert.equal(formatB3SamplingOnly(p), v);
      }
      assert.deepEqual(parseB3Multi(getter({ 'x-b3-sampled': '0' })), { samplingOnly: true, sampled: false, debug: false });
      assert.deepEqual(parseB3Multi(getter({ 'x-b3-flags': '1' })), { samplingOnly: true, sampled: true, debug: true });
      assert.equal(parseB3Multi(getter({})), undefined);
    });

    it('maps debug to sampled and writes it as flags 1 without x-b3-sampled, or as d', () => {
      const ctx = ctxOf(parseB3Multi(getter({ ...MULTI, 'x-b3-sampled': '0', 'x-b3-flags': '1' })));
      assert.equal(ctx.debug, true);
      assert.equal(ctx.sampled, true);
      const headers = formatB3Multi(ctx)!;
      assert.equal(headers['x-b3-flags'], '1');
      assert.equal(headers['x-b3-sampled'], undefined);
      assert.equal(formatB3Single(ctx), SINGLE.replace('-1-', '-d-'));
      assert.equal(ctxOf(parseB3Multi(getter({ ...MULTI, 'x-b3-flags': '0' }))).debug, undefined);
    });

    it('accepts the legacy true/false sampled values and either hex case', () => {
      assert.equal(ctxOf(parseB3Multi(getter({ ...MULTI, 'x-b3-sampled': 'true' }))).sampled, true);
      assert.equal(ctxOf(parseB3Multi(getter({ ...MULTI, 'x-b3-sampled': 'false' }))).sampled, false);
      assert.equal(formatB3Single(ctxOf(parseB3Single(SINGLE.toUpperCase().replace('-D-', '-d-')))), SINGLE);
    });

    it('defers the decision when no sampling state is sent, and then omits the parent in the single form', () => {
      const ctx = ctxOf(parseB3Multi(getter({ 'x-b3-traceid': MULTI['x-b3-traceid']!, 'x-b3-spanid': MULTI['x-b3-spanid']!, 'x-b3-parentspanid': MULTI['x-b3-parentspanid']! })));
      assert.equal(ctx.sampled, undefined);
      assert.equal(formatB3Single(ctx), '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1');
      assert.equal(formatB3Multi(ctx)!['x-b3-parentspanid'], '05e3ac9a4f6e3b90');
    });

    it('rejects malformed values', () => {
      const single = [
        '',
        '2',
        'D',
        '80f198ee56343ba864fe8b2a57d3eff7',
        '80f198ee56343ba864fe8b2a57d3eff7-',
        '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-',
        '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-2',
        '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-true',
        '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-',
        '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90-x',
        '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-0000000000000000',
        '00000000000000000000000000000000-e457b5a2e4d86bd1-1',
        '0000000000000000-e457b5a2e4d86bd1',
        '80f198ee56343ba864fe8b2a57d3eff7-0000000000000000',
        '80f198ee56343ba864fe8b2a57d3ef-e457b5a2e4d86bd1',
        '80f198ee56343ba8-64fe8b2a57d3eff7-e457b5a2e4d86bd1',
      ];
      for (const v of single) assert.equal(parseB3Single(v), undefined, v);
      const multi: Array<Record<string, string>> = [
        { 'x-b3-traceid': MULTI['x-b3-traceid']! },
        { 'x-b3-spanid': MULTI['x-b3-spanid']! },
        { ...MULTI, 'x-b3-sampled': 'yes' },
        { ...MULTI, 'x-b3-parentspanid': '0000000000000000' },
        { ...MULTI, 'x-b3-traceid': 'xyz' },
        { 'x-b3-parentspanid': '05e3ac9a4f6e3b90', 'x-b3-sampled': '1' },
      ];
      for (const h of multi) assert.equal(parseB3Multi(getter(h)), undefined, JSON.stringify(h));
    });
  });

  describe('properties', () => {
    it('context -> b3 single -> context round-trips', () => {
      fc.assert(
        fc.property(b3ContextArb(true), (ctx) => {
          assert.deepEqual(parseB3Single(formatB3Single(ctx)!), ctx);
        }),
        { numRuns: 500 },
      );
    });

    it('context -> b3 multi -> context round-trips', () => {
      fc.assert(
        fc.property(b3ContextArb(false), (ctx) => {
          assert.deepEqual(parseB3Multi(getter(formatB3Multi(ctx)!)), ctx);
        }),
        { numRuns: 500 },
      );
    });

    it('single and multi agree on every context the single form can carry', () => {
      fc.assert(
        fc.property(b3ContextArb(true), (ctx) => {
          assert.deepEqual(parseB3Single(formatB3Single(ctx)!), parseB3Multi(getter(formatB3Multi(ctx)!)));
        }),
      );
    });

    it('canonical b3 single -> context -> b3 single round-trips', () => {
      const canonical = fc
        .stringMatching(/^(?:[0-9a-f]{32}|[0-9a-f]{16})-[0-9a-f]{16}(?:-[01d](?:-[0-9a-f]{16})?)?$/)
        .filter((s) => !/(^|-)0{16}(-|$)/.test(s) && !/^0{32}-/.test(s) && !/^0{16}[0-9a-f]{16}-/.test(s));
      fc.assert(
        fc.property(canonical, (s) => {
          assert.equal(formatB3Single(ctxOf(parseB3Single(s))), s);
        }),
        { numRuns: 300 },
      );
    });

    it('malformed input returns undefined and never throws', () => {
      fc.assert(
        fc.property(junkArb(b3ContextArb(true).map((c) => formatB3Single(c)!)), (s) => {
          const v = parseB3Single(s);
          if (v !== undefined && isTraceContext(v)) assert.match(s, /^[ \t]*[0-9a-f]{16}(?:[0-9a-f]{16})?-[0-9a-f]{16}/i);
          parseB3Multi((n) => (n === 'x-b3-traceid' || n === 'x-b3-spanid' ? s : undefined));
        }),
        { numRuns: 1000 },
      );
    });
  });
});
