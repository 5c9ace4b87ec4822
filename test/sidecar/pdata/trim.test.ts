import assert from 'node:assert/strict';
import { decodeTraceRequest, encodeTraceRequest } from '../../../sidecar/pdata/otlp-schema.ts';
import { editLargeSpans } from '../../../sidecar/pdata/split.ts';
import { indexTraceRequest } from '../../../sidecar/pdata/trace-view.ts';

const edit = (bytes: Uint8Array, max: number, fn: Parameters<typeof editLargeSpans>[3]) => editLargeSpans(bytes, indexTraceRequest(bytes), max, fn);
import { TRIMMED_ATTRIBUTE, trimSpan } from '../../../sidecar/pdata/trim.ts';

const attr = (i: number, size: number) => ({ key: `a${i}`, value: { stringValue: 'v'.repeat(size) } });

function request(spanOverrides: Record<string, unknown>): Uint8Array {
  return encodeTraceRequest({
    resourceSpans: [{ resource: { attributes: [attr(0, 5)] }, scopeSpans: [{ scope: { name: 's' }, spans: [
      { traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 1), name: 'big', droppedAttributesCount: 2, ...spanOverrides },
      { traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 'small' },
    ] }] }],
  });
}

describe('pdata trim', () => {
  it('keeps attributes, then events, in order while they fit; counts the rest in dropped_*_count and tracebridge.trimmed', () => {
    const bytes = request({ attributes: Array.from({ length: 10 }, (_, i) => attr(i, 1000)), events: Array.from({ length: 4 }, (_, i) => ({ name: `e${i}`, attributes: [attr(i, 2000)] })) });
    const out = edit(bytes, 5000, (buf, s, e) => trimSpan(buf, s, e, 5000)?.payload);
    assert.ok(out);
    assert.equal(out.edited, 1);
    assert.equal(out.dropped, 0);
    assert.equal(out.part.spans, 2);
    const spans = decodeTraceRequest(out.part.bytes).resourceSpans![0]!.scopeSpans![0]!.spans!;
    const big = spans[0]!;
    assert.equal(big.name, 'big');
    const kept = big.attributes!.filter((a) => a.key !== TRIMMED_ATTRIBUTE);
    assert.deepEqual(kept.map((a) => a.key), ['a0', 'a1', 'a2', 'a3']);
    assert.equal(big.droppedAttributesCount, 2 + 6);
    assert.equal(big.events?.length ?? 0, 0);
    assert.equal(big.droppedEventsCount, 4);
    assert.equal(big.attributes!.find((a) => a.key === TRIMMED_ATTRIBUTE)!.value!.stringValue, 'attributes:6,events:4,links:0 (span over 5000 bytes)');
    assert.equal(spans[1]!.name, 'small', 'spans under the limit are untouched');
  });

  it('returns nothing to edit when every span fits, and drops a span whose name alone is over the limit', () => {
    assert.equal(edit(request({}), 5000, () => assert.fail('not called')), undefined);
    const out = edit(request({ name: 'n'.repeat(6000) }), 5000, (buf, s, e) => trimSpan(buf, s, e, 5000)?.payload);
    assert.ok(out);
    assert.equal(out.dropped, 1);
    assert.equal(out.part.spans, 1);
  });
});
