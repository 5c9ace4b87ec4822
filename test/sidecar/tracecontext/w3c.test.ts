import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatTraceparent, parseTraceparent } from '../../../sidecar/tracecontext/w3c.ts';
import { hex, junkArb, w3cContextArb } from './arbitraries.ts';

// Examples from the W3C Trace Context recommendation.
const SPEC_EXAMPLE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const SPEC_EXAMPLE_2 = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('tracecontext W3C traceparent', () => {
  describe('fixtures', () => {
    it('parses the specification examples', () => {
      const ctx = parseTraceparent(SPEC_EXAMPLE, 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE')!;
      assert.equal(hex(ctx.traceId), TRACE);
      assert.equal(hex(ctx.spanId!), SPAN);
      assert.equal(ctx.sampled, true);
      assert.equal(ctx.traceFlags, 1);
      assert.equal(ctx.tracestate, 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
      assert.equal(formatTraceparent(ctx), SPEC_EXAMPLE);
      assert.equal(formatTraceparent(parseTraceparent(SPEC_EXAMPLE_2)!), SPEC_EXAMPLE_2);
      assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-00`)!.sampled, false);
    });

    it('tolerates surrounding spaces and tabs only', () => {
      assert.ok(parseTraceparent(` \t${SPEC_EXAMPLE} `));
      assert.equal(parseTraceparent(`\n${SPEC_EXAMPLE}`), undefined);
      assert.equal(parseTraceparent(`${SPEC_EXAMPLE}\u00a0`), undefined);
    });

    it('rejects what the specification says to reject', () => {
      const bad = [
        `ff-${TRACE}-${SPAN}-01`, // version ff is forbidden
        `00-${TRACE}-${SPAN}-01-extra`, // version 00 is exactly 55 characters
        `00-${TRACE}-${SPAN}-0`,
        `00-00000000000000000000000000000000-${SPAN}-01`, // all-zero trace-id
        `00-${TRACE}-0000000000000000-01`, // all-zero parent-id
        `00-${TRACE.toUpperCase()}-${SPAN}-01`, // uppercase hex
        `00-${TRACE}-${SPAN.toUpperCase()}-01`,
        `00-${TRACE}-${SPAN}-0A`,
        `0A-${TRACE}-${SPAN}-01`,
        `00_${TRACE}-${SPAN}-01`,
        `00-${TRACE}_${SPAN}-01`,
        `00-${TRACE}-${SPAN}_01`,
        `00-${TRACE.slice(1)}-${SPAN}0-01`,
        `00-${TRACE}-${SPAN}-xy`,
        '',
        '00',
      ];
      for (const v of bad) assert.equal(parseTraceparent(v, 'a=b'), undefined, v);
    });

    it('parses higher versions for forward compatibility, keeping only the sampled bit', () => {
      const v1 = parseTraceparent(`01-${TRACE}-${SPAN}-03`)!;
      assert.equal(v1.sampled, true);
      assert.equal(v1.traceFlags, 1);
      const withMore = parseTraceparent(`cc-${TRACE}-${SPAN}-08-what-the-future-holds`)!;
      assert.equal(hex(withMore.traceId), TRACE);
      assert.equal(withMore.sampled, false);
      assert.equal(parseTraceparent(`cc-${TRACE}-${SPAN}-01.more`), undefined, 'after the flags must come a dash');
      assert.equal(parseTraceparent(`cc-${TRACE}-${SPAN}-0`), undefined, 'shorter than 55');
      assert.equal(formatTraceparent(v1), `00-${TRACE}-${SPAN}-01`, 'always writes version 00');
    });

    it('keeps the level-2 random flag, drops undefined flag bits, and needs a span ID to format', () => {
      assert.equal(formatTraceparent(parseTraceparent(`00-${TRACE}-${SPAN}-03`)!), `00-${TRACE}-${SPAN}-03`);
      assert.equal(formatTraceparent(parseTraceparent(`00-${TRACE}-${SPAN}-02`)!), `00-${TRACE}-${SPAN}-02`);
      assert.equal(formatTraceparent(parseTraceparent(`00-${TRACE}-${SPAN}-09`)!), `00-${TRACE}-${SPAN}-01`);
      assert.equal(formatTraceparent({ traceId: new Uint8Array(16).fill(1) }), undefined);
      assert.equal(formatTraceparent({ traceId: new Uint8Array(16).fill(1), spanId: new Uint8Array(8).fill(2), debug: true }), `00-${'01'.repeat(16)}-${'02'.repeat(8)}-01`);
    });
  });

  describe('properties', () => {
    it('context -> traceparent -> context round-trips, tracestate carried as is', () => {
      fc.assert(
        fc.property(w3cContextArb, (ctx) => {
          assert.deepEqual(parseTraceparent(formatTraceparent(ctx)!, ctx.tracestate), ctx);
        }),
        { numRuns: 300 },
      );
    });

    it('canonical traceparent -> context -> traceparent round-trips', () => {
      const canonical = fc.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/).filter((s) => !s.includes('-0000000000000000-') && !s.startsWith('00-00000000000000000000000000000000'));
      fc.assert(
        fc.property(canonical, (s) => {
          assert.equal(formatTraceparent(parseTraceparent(s)!), s);
        }),
        { numRuns: 300 },
      );
    });

    it('malformed input returns undefined and never throws', () => {
      const valid = w3cContextArb.map((c) => formatTraceparent(c)!);
      fc.assert(
        fc.property(junkArb(valid), (s) => {
          const ctx = parseTraceparent(s, 'x=y');
          if (ctx !== undefined) {
            assert.match(s.replace(/^[ \t]+|[ \t]+$/g, ''), /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-.*)?$/);
            assert.equal(ctx.tracestate, 'x=y');
          }
        }),
        { numRuns: 1000 },
      );
    });
  });
});
