import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatXRayHeader, parseXRayHeader } from '../../../sidecar/tracecontext/xray-header.ts';
import { hex, junkArb, xrayContextArb } from './arbitraries.ts';

// AWS X-Ray developer guide ("Tracing header") and Elastic Load Balancing ("Request tracing").
const AWS_EXAMPLE = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
const ALB_ROOT_ONLY = 'Root=1-67891233-abcdef012345678912345678';
const ALB_WITH_SELF = 'Self=1-67891234-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678;CalledFrom=app';

describe('tracecontext X-Amzn-Trace-Id', () => {
  describe('fixtures', () => {
    it('parses and re-formats the AWS documentation header', () => {
      const ctx = parseXRayHeader(AWS_EXAMPLE)!;
      assert.equal(hex(ctx.traceId), '5759e988bd862e3fe1be46a994272793');
      assert.equal(hex(ctx.spanId!), '53995c3f42cd8ad8');
      assert.equal(ctx.sampled, true);
      assert.equal(ctx.xray, undefined);
      assert.equal(formatXRayHeader(ctx), AWS_EXAMPLE);
    });

    it('accepts Root-only headers as ALB and API Gateway send them', () => {
      const ctx = parseXRayHeader(ALB_ROOT_ONLY)!;
      assert.equal(hex(ctx.traceId), '67891233abcdef012345678912345678');
      assert.equal(ctx.spanId, undefined);
      assert.equal(ctx.sampled, undefined);
      assert.equal(formatXRayHeader(ctx), ALB_ROOT_ONLY);
    });

    it('keeps Self and unknown fields in order, Root first on output', () => {
      const ctx = parseXRayHeader(ALB_WITH_SELF)!;
      assert.deepEqual(ctx.xray?.fields, [
        { key: 'Self', value: '1-67891234-12456789abcdef012345678' },
        { key: 'CalledFrom', value: 'app' },
      ]);
      assert.equal(formatXRayHeader(ctx), 'Root=1-67891233-abcdef012345678912345678;Self=1-67891234-12456789abcdef012345678;CalledFrom=app');
    });

    it('keeps Lambda Lineage and Sampled=? (decision requested)', () => {
      const v = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?;Lineage=a87bd80c:1|68fd508a:5';
      const ctx = parseXRayHeader(v)!;
      assert.equal(ctx.sampled, undefined);
      assert.equal(ctx.xray?.sampledRequested, true);
      assert.deepEqual(ctx.xray?.fields, [{ key: 'Lineage', value: 'a87bd80c:1|68fd508a:5' }]);
      assert.equal(formatXRayHeader(ctx), v);
      assert.equal(parseXRayHeader('Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0')!.sampled, false);
    });

    it('tolerates whitespace, case-insensitive keys, either hex case and empty fields', () => {
      const ctx = parseXRayHeader(' root = 1-5759E988-BD862E3FE1BE46A994272793 ;\tPARENT=53995c3f42cd8ad8 ; sampled=1 ;; ')!;
      assert.equal(formatXRayHeader(ctx), AWS_EXAMPLE);
    });

    it('skips fields without "=" or with an empty key, as the X-Ray SDK does', () => {
      const ctx = parseXRayHeader('Root=1-5759e988-bd862e3fe1be46a994272793;garbage;=x;Foo=')!;
      assert.deepEqual(ctx.xray?.fields, [{ key: 'Foo', value: '' }]);
    });

    it('rejects missing or malformed Root, malformed Parent or Sampled, and repeated known keys', () => {
      const bad = [
        '',
        'Parent=53995c3f42cd8ad8;Sampled=1',
        'Root=5759e988bd862e3fe1be46a994272793',
        'Root=1-00000000-000000000000000000000000',
        'Root=2-5759e988-bd862e3fe1be46a994272793',
        'Root=1-5759e988-bd862e3fe1be46a99427279',
        `${AWS_EXAMPLE.replace('Parent=53995c3f42cd8ad8', 'Parent=0000000000000000')}`,
        `${AWS_EXAMPLE.replace('Parent=53995c3f42cd8ad8', 'Parent=53995c3f42cd8ad')}`,
        `${AWS_EXAMPLE.replace('Sampled=1', 'Sampled=yes')}`,
        `${AWS_EXAMPLE};Root=1-5759e988-bd862e3fe1be46a994272794`,
        `${AWS_EXAMPLE};parent=53995c3f42cd8ad9`,
        `${AWS_EXAMPLE};Sampled=0`,
      ];
      for (const v of bad) assert.equal(parseXRayHeader(v), undefined, v);
    });

    it('stays linear on a long header of fields without "="', () => {
      const v = `${'a;'.repeat(100_000)}Root=1-5759e988-bd862e3fe1be46a994272793`;
      assert.ok(parseXRayHeader(v));
    });
  });

  describe('properties', () => {
    it('context -> header -> context round-trips, extra fields in order', () => {
      fc.assert(
        fc.property(xrayContextArb, (ctx) => {
          assert.deepEqual(parseXRayHeader(formatXRayHeader(ctx)), ctx);
        }),
        { numRuns: 500 },
      );
    });

    it('header -> context -> header is stable, whatever whitespace and key case came in', () => {
      fc.assert(
        fc.property(xrayContextArb, fc.array(fc.constantFrom('', ' ', '\t', '  '), { minLength: 4, maxLength: 4 }), fc.boolean(), (ctx, ws, lower) => {
          const canonical = formatXRayHeader(ctx);
          const messy = canonical
            .split(';')
            .map((f) => {
              const eq = f.indexOf('=');
              let key = f.slice(0, eq);
              if (lower && ['Root', 'Parent', 'Sampled'].includes(key)) key = key.toLowerCase();
              return `${ws[0]}${key}${ws[1]}=${ws[2]}${f.slice(eq + 1)}${ws[3]}`;
            })
            .join(';');
          assert.equal(formatXRayHeader(parseXRayHeader(messy)!), canonical);
        }),
        { numRuns: 300 },
      );
    });

    it('malformed input returns undefined and never throws', () => {
      fc.assert(
        fc.property(junkArb(xrayContextArb.map(formatXRayHeader)), (s) => {
          const ctx = parseXRayHeader(s);
          if (ctx !== undefined) assert.match(s, /root[ \t]*=[ \t]*1-[0-9a-f]{8}-[0-9a-f]{24}/i);
        }),
        { numRuns: 1000 },
      );
    });
  });
});
