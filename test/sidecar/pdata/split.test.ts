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

/** A copy in an ArrayBuffer of its own: small Buffers share Node's pool, so `.buffer` alone proves nothing. */
function unpooled(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
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

  it('a batch of whole ResourceSpans splits into views of the batch, copying nothing', () => {
    // What the batch processor hands an exporter: one ResourceSpans per incoming request,
    // concatenated. Splitting it at the exporter's byte cap must not copy the spans again.
    const one = (i: number) => encodeTraceRequest({ resourceSpans: [{ resource: { attributes: [{ key: 'i', value: { intValue: i } }] }, scopeSpans: [{ spans: [{ name: `s${i}-a` }, { name: `s${i}-b` }] }] }] });
    const requests = Array.from({ length: 10 }, (_, i) => one(i));
    const batch = unpooled(Buffer.concat(requests));
    const cap = requests[0]!.length * 3 + 2;
    const parts = splitTraceRequest(batch, 20, 0, cap);
    assert.equal(parts.length, 4);
    assert.deepEqual(parts.map((p) => p.spans), [6, 6, 6, 2]);
    let offset = batch.byteOffset;
    for (const p of parts) {
      assert.equal(p.bytes.buffer, batch.buffer, 'a view of the batch');
      assert.equal(p.bytes.byteOffset, offset);
      offset += p.bytes.length;
      assert.ok(p.bytes.length <= cap);
    }
    assert.deepEqual(parts.flatMap((p) => flatten(decodeTraceRequest(p.bytes))), flatten(decodeTraceRequest(batch)));
  });

  it('a ResourceSpans over the cap among whole ones is split span by span, in order and within the cap', () => {
    const big = encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: Array.from({ length: 8 }, (_, i) => ({ name: `big-${i}`.padEnd(40, '.') })) }] }] });
    const small = encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'small' }] }] }] });
    const batch = unpooled(Buffer.concat([small, big, small]));
    const cap = Math.ceil(big.length / 2);
    const parts = splitTraceRequest(batch, 10, 0, cap);
    assert.equal(parts.reduce((n, p) => n + p.spans, 0), 10);
    for (const p of parts) assert.ok(p.bytes.length <= cap, `${p.bytes.length} > ${cap}`);
    assert.deepEqual(parts.flatMap((p) => flatten(decodeTraceRequest(p.bytes))), flatten(decodeTraceRequest(batch)));
  });
});
