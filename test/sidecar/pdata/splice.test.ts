import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeStringKeyValue, filterSpans, rewriteResources } from '../../../sidecar/pdata/splice.ts';
import { decodeTraceRequest, encodeTraceRequest, type ExportTraceServiceRequest } from '../../../sidecar/pdata/otlp-schema.ts';
import { TAG_SPAN_NAME } from '../../../sidecar/pdata/fields.ts';
import { indexTraceRequest } from '../../../sidecar/pdata/trace-view.ts';
import { countSpans, WireReader } from '../../../sidecar/pdata/wire.ts';

const requestArb = fc.array(
  fc.record({
    resource: fc.option(fc.record({ attributes: fc.array(fc.record({ key: fc.string(), value: fc.record({ stringValue: fc.string() }) }), { maxLength: 2 }) }), { nil: undefined }),
    scopeSpans: fc.array(
      fc.record({
        scope: fc.record({ name: fc.string() }),
        spans: fc.array(fc.record({ name: fc.constantFrom('keep-a', 'keep-b', 'drop-a', 'drop-b'), traceId: fc.uint8Array({ minLength: 16, maxLength: 16 }) }), { maxLength: 4 }),
      }),
      { maxLength: 3 },
    ),
  }),
  { maxLength: 4 },
);

/** Span.name (field 5) read from the span's payload range. */
function spanName(buf: Uint8Array, start: number, end: number): string {
  const r = new WireReader(buf, start, end);
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === TAG_SPAN_NAME) {
      const e = r.lenEnd();
      return Buffer.from(buf.subarray(r.pos, e)).toString('utf8');
    }
    r.skip(tag & 7);
  }
  return '';
}

/** What filtering should leave: kept spans in order; scopes and resources left empty by the filter removed. */
function expected(req: ExportTraceServiceRequest, drop: (name: string) => boolean): ExportTraceServiceRequest {
  const decoded = decodeTraceRequest(encodeTraceRequest(req));
  const resourceSpans = (decoded.resourceSpans ?? []).flatMap((rs) => {
    const scopeSpans = (rs.scopeSpans ?? []).flatMap((ss) => {
      const spans = (ss.spans ?? []).filter((s) => !drop(s.name ?? ''));
      return (ss.spans ?? []).length > 0 && spans.length === 0 ? [] : [{ ...ss, spans }];
    });
    return (rs.scopeSpans ?? []).length > 0 && scopeSpans.length === 0 ? [] : [{ ...rs, scopeSpans }];
  });
  return decodeTraceRequest(encodeTraceRequest({ resourceSpans }));
}

describe('pdata splice', () => {
  it('filterSpans drops exactly the chosen spans, prunes emptied scopes and resources, and re-frames every length (property)', () => {
    fc.assert(
      fc.property(requestArb, (resourceSpans) => {
        const bytes = encodeTraceRequest({ resourceSpans });
        const drop = (name: string) => name.startsWith('drop');
        const view = indexTraceRequest(bytes);
        const out = filterSpans(bytes, view, (k) => drop(spanName(bytes, view.spanStart(k), view.spanEnd(k))));
        const toDrop = resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)).filter((s) => drop(s.name)).length;
        if (toDrop === 0) {
          assert.equal(out, undefined);
          return;
        }
        assert.ok(out);
        assert.equal(out.dropped, toDrop);
        assert.equal(countSpans(out.bytes), countSpans(bytes) - toDrop);
        assert.deepEqual(decodeTraceRequest(out.bytes), expected({ resourceSpans }, drop));
      }),
    );
  });

  it('filterSpans copies fields it does not know', () => {
    const span = encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'drop' }, { name: 'keep' }] }] }] });
    const withUnknown = Buffer.concat([Buffer.from(span), Buffer.from([0xa2, 0x06, 0x02, 0x68, 0x69])]);
    const view = indexTraceRequest(withUnknown);
    const out = filterSpans(withUnknown, view, (k) => spanName(withUnknown, view.spanStart(k), view.spanEnd(k)) === 'drop')!;
    assert.ok(Buffer.from(out.bytes).includes(Buffer.from([0xa2, 0x06, 0x02, 0x68, 0x69])));
    assert.deepEqual(decodeTraceRequest(out.bytes).resourceSpans![0]!.scopeSpans![0]!.spans!.map((s) => s.name), ['keep']);
  });

  it('rewriteResources inserts a Resource where there is none and replaces an existing one', () => {
    const bytes = encodeTraceRequest({
      resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'a' }] }] }, { resource: { attributes: [{ key: 'old', value: { stringValue: '1' } }] }, scopeSpans: [{ spans: [{ name: 'b' }] }] }],
    });
    const kv = encodeStringKeyValue('k', 'v');
    const payload = Buffer.concat([Buffer.from([0x0a, kv.length]), kv]);
    const view = indexTraceRequest(bytes);
    const out = rewriteResources(bytes, view, () => payload)!;
    const rss = decodeTraceRequest(out).resourceSpans!;
    assert.deepEqual(rss.map((rs) => rs.resource?.attributes?.map((a) => `${a.key}=${a.value?.stringValue}`)), [['k=v'], ['k=v']]);
    assert.deepEqual(rss.map((rs) => rs.scopeSpans![0]!.spans![0]!.name), ['a', 'b']);
    assert.equal(rewriteResources(bytes, view, () => undefined), undefined);
  });
});
