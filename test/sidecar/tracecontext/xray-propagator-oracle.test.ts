// Cross-check of the X-Amzn-Trace-Id parser and formatter against an independent implementation,
// @opentelemetry/propagator-aws-xray, on random inputs: inject with it and parse with ours, format
// with ours and extract with it, and feed both the same random headers.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ROOT_CONTEXT, TraceFlags, defaultTextMapGetter, defaultTextMapSetter, trace } from '@opentelemetry/api';
import type { SpanContext } from '@opentelemetry/api';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import type { TraceContext } from '../../../sidecar/tracecontext/context.ts';
import { formatXRayHeader, parseXRayHeader } from '../../../sidecar/tracecontext/xray-header.ts';
import { hex, mixCase, spanIdArb, traceIdArb, xrayContextArb } from './arbitraries.ts';

const propagator = new AWSXRayPropagator();
const SAMPLED: number = TraceFlags.SAMPLED;

function injectWithOracle(sc: SpanContext): string {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpanContext(ROOT_CONTEXT, sc), carrier, defaultTextMapSetter);
  return carrier['x-amzn-trace-id']!;
}

function extractWithOracle(header: string): SpanContext | undefined {
  return trace.getSpanContext(propagator.extract(ROOT_CONTEXT, { 'x-amzn-trace-id': header }, defaultTextMapGetter));
}

/** The oracle matches keys by case-sensitive prefix; keep generated extra keys clear of that. */
const oracleSafe = (ctx: TraceContext): boolean => (ctx.xray?.fields ?? []).every((f) => !/^(Root|Parent|Sampled)/.test(f.key));

describe('tracecontext X-Amzn-Trace-Id vs @opentelemetry/propagator-aws-xray', () => {
  it('parses what the propagator injects', () => {
    fc.assert(
      fc.property(traceIdArb, spanIdArb, fc.boolean(), (t, s, sampled) => {
        const header = injectWithOracle({ traceId: hex(t), spanId: hex(s), traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE });
        const ctx = parseXRayHeader(header)!;
        assert.deepEqual(ctx, { traceId: t, spanId: s, sampled });
        assert.equal(formatXRayHeader(ctx), header, 'and formats it byte for byte the same');
      }),
      { numRuns: 300 },
    );
  });

  it('the propagator extracts what ours formats (when it has Parent and Sampled=0|1, which it requires)', () => {
    fc.assert(
      fc.property(xrayContextArb.filter(oracleSafe), (ctx) => {
        const header = formatXRayHeader(ctx);
        const sc = extractWithOracle(header);
        if (ctx.spanId !== undefined && ctx.sampled !== undefined) {
          assert.ok(sc, header);
          assert.equal(sc.traceId, hex(ctx.traceId));
          assert.equal(sc.spanId, hex(ctx.spanId));
          assert.equal(sc.traceFlags, ctx.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE);
        } else {
          assert.equal(sc, undefined, `the propagator rejects Root-only / Sampled=? / no-Sampled: ${header}`);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with the propagator on random near-valid headers', () => {
    const field = fc.oneof(
      fc.record({ kind: fc.constant('Root'), v: fc.oneof(traceIdArb.map((t) => `1-${hex(t).slice(0, 8)}-${hex(t).slice(8)}`), fc.constantFrom('1-00000000-000000000000000000000000', '2-5759e988-bd862e3fe1be46a994272793', '1-5759e988-bd862e3fe1be46a99427279', '1-5759e988bd862e3fe1be46a994272793x', '')), mask: fc.nat() }),
      fc.record({ kind: fc.constant('Parent'), v: fc.oneof(spanIdArb.map(hex), fc.constantFrom('0000000000000000', '53995c3f42cd8ad', 'z3995c3f42cd8ad8')), mask: fc.nat() }),
      fc.record({ kind: fc.constant('Sampled'), v: fc.constantFrom('0', '1', '?', 'x', ''), mask: fc.constant(0) }),
      fc.record({ kind: fc.constantFrom('Lineage', 'Self', 'Foo'), v: fc.constantFrom('a87bd80c:1|68fd508a:5', 'bar', ''), mask: fc.constant(0) }),
    );
    const header = fc
      .tuple(fc.uniqueArray(field, { selector: (f) => f.kind, maxLength: 6 }), fc.array(fc.constantFrom('', ' ', '\t'), { minLength: 14, maxLength: 14 }))
      .map(([fields, ws]) => fields.map((f, i) => `${ws[2 * i]}${f.kind}=${mixCase(f.v, f.mask)}${ws[2 * i + 1]}`).join(';'));
    let bothAccepted = 0;
    fc.assert(
      fc.property(header, (h) => {
        const ours = parseXRayHeader(h);
        const theirs = extractWithOracle(h);
        if (theirs !== undefined) {
          bothAccepted++;
          assert.ok(ours, `propagator accepted, ours rejected: ${h}`);
          assert.equal(hex(ours.traceId), theirs.traceId.toLowerCase());
          assert.equal(hex(ours.spanId!), theirs.spanId.toLowerCase());
          assert.equal(ours.sampled, (theirs.traceFlags & SAMPLED) !== 0);
        } else if (ours !== undefined) {
          // The only headers ours accepts and the propagator does not: no Parent, or no decision.
          assert.ok(ours.spanId === undefined || ours.sampled === undefined, `ours accepted, propagator rejected: ${h}`);
        }
      }),
      { numRuns: 2000 },
    );
    assert.ok(bothAccepted > 20, `the generator must produce headers both accept (got ${bothAccepted})`);
  });

  it('documents where the two differ by design', () => {
    const root = 'Root=1-5759e988-bd862e3fe1be46a994272793';
    // Lowercase keys: the X-Ray SDK (aws-xray-sdk-core processTraceData) accepts them; the propagator does not.
    assert.ok(parseXRayHeader(`root=1-5759e988-bd862e3fe1be46a994272793;parent=53995c3f42cd8ad8;sampled=1`));
    assert.equal(extractWithOracle('root=1-5759e988-bd862e3fe1be46a994272793;parent=53995c3f42cd8ad8;sampled=1'), undefined);
    // Prefix keys: the propagator reads `RootX=` as Root; ours keeps it as an unknown field.
    assert.equal(parseXRayHeader('RootX=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'), undefined);
    assert.ok(extractWithOracle('RootX=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'));
    // Spaces around '=': ours trims them, the propagator does not.
    assert.ok(parseXRayHeader(`Root = 1-5759e988-bd862e3fe1be46a994272793;Parent = 53995c3f42cd8ad8;Sampled = 1`));
    // Root-only (ALB, API Gateway): ours accepts, the propagator needs Parent and Sampled.
    assert.ok(parseXRayHeader(root));
    assert.equal(extractWithOracle(root), undefined);
  });
});
