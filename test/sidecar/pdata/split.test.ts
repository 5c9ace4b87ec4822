import assert from 'node:assert/strict';
import fc from 'fast-check';
import { splitTraceRequest } from '../../../sidecar/pdata/split.ts';
import { decodeTraceRequest, encodeTraceRequest, type ExportTraceServiceRequest } from '../../../sidecar/pdata/otlp-schema.ts';
import { countSpans } from '../../../sidecar/pdata/wire.ts';

const kv = fc.record({ key: fc.string({ maxLength: 8 }), value: fc.record({ stringValue: fc.string({ maxLength: 40 }) }) });
const requestArb = fc.array(
  fc.record({
    resource: fc.option(fc.record({ attributes: fc.array(kv, { maxLength: 3 }) }), { nil: undefined }),
    schemaUrl: fc.option(fc.constant('https://opentelemetry.io/schemas/1.26.0'), { nil: undefined }),
    scopeSpans: fc.array(
      fc.record({
        scope: fc.record({ name: fc.string({ maxLength: 10 }) }),
        spans: fc.array(
          fc.record({
            name: fc.string({ maxLength: 30 }),
            traceId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
            spanId: fc.uint8Array({ minLength: 8, maxLength: 8 }),
            attributes: fc.array(kv, { maxLength: 4 }),
          }),
          { maxLength: 6 },
        ),
      }),
      { maxLength: 3 },
    ),
  }),
  { maxLength: 4 },
);

/** Every span with the resource and scope it belongs to, in order: what a split must preserve. */
function flatten(req: ExportTraceServiceRequest): unknown[] {
  return (req.resourceSpans ?? []).flatMap((rs) =>
    (rs.scopeSpans ?? []).flatMap((ss) => (ss.spans ?? []).map((s) => ({ resource: rs.resource ?? null, schema: rs.schemaUrl ?? '', scope: ss.scope ?? null, span: s }))),
  );
}

describe('pdata split', () => {
  it('splits at resource/scope/span boundaries within the span and byte bounds, keeping every span with its resource and scope (property)', () => {
    fc.assert(
      fc.property(requestArb, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 600 }), (resourceSpans, maxSpans, maxBytes) => {
        const bytes = encodeTraceRequest({ resourceSpans });
        const total = countSpans(bytes);
        const parts = splitTraceRequest(bytes, total, maxSpans, maxBytes);
        const spans: unknown[] = [];
        let sum = 0;
        for (const p of parts) {
          assert.equal(countSpans(p.bytes), p.spans);
          if (maxSpans > 0) assert.ok(p.spans <= maxSpans, `${p.spans} spans > ${maxSpans}`);
          if (maxBytes > 0 && p.spans > 1) assert.ok(p.bytes.length <= maxBytes, `${p.bytes.length} bytes > ${maxBytes}`);
          sum += p.spans;
          spans.push(...flatten(decodeTraceRequest(p.bytes)));
        }
        assert.equal(sum, total);
        assert.deepEqual(spans, flatten(decodeTraceRequest(bytes)));
      }),
      { numRuns: 300 },
    );
  });

  it('returns the request itself when it fits', () => {
    const bytes = encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'a' }, { name: 'b' }] }] }] });
    const parts = splitTraceRequest(bytes, 2, 2, bytes.length);
    assert.equal(parts.length, 1);
    assert.equal(parts[0]!.bytes, bytes);
  });

  it('carries unknown fields of ResourceSpans and ScopeSpans into every part', () => {
    // ResourceSpans { 99: "x", scope_spans { 98: "y", spans {name a}, spans {name b} } }
    const span = (n: string) => Buffer.from([0x12, 3, 0x2a, 1, n.charCodeAt(0)]);
    const ss = Buffer.concat([Buffer.from([0x92, 0x06, 1, 0x79]), span('a'), span('b')]);
    const rs = Buffer.concat([Buffer.from([0x9a, 0x06, 1, 0x78]), Buffer.from([0x12, ss.length]), ss]);
    const req = Buffer.concat([Buffer.from([0x0a, rs.length]), rs]);
    const parts = splitTraceRequest(req, 2, 1, 0);
    assert.equal(parts.length, 2);
    for (const p of parts) {
      const hex = Buffer.from(p.bytes).toString('hex');
      assert.ok(hex.includes('9a060178'), 'resource-level unknown field kept');
      assert.ok(hex.includes('92060179'), 'scope-level unknown field kept');
    }
  });
});
