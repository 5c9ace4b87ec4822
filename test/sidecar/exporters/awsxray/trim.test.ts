import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { SegmentDocument } from '../../../../sidecar/exporters/awsxray/document.ts';
import { fitDocument, MAX_DOCUMENT_BYTES } from '../../../../sidecar/exporters/awsxray/trim.ts';

function doc(over: Partial<SegmentDocument> = {}): SegmentDocument {
  return { name: 'svc', id: '1111111111111111', trace_id: '1-6955b900-77b34da6a3ce929d0e0e4736', start_time: 1, end_time: 2, fault: false, error: false, throttle: false, ...over };
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('awsxray exporter: 64 kB document limit', () => {
  it('leaves a document that fits untouched', () => {
    const d = doc({ metadata: { default: { a: 'x'.repeat(1000) } } });
    const out = fitDocument(d);
    assert.deepStrictEqual(out.trimmed, []);
    assert.deepStrictEqual(JSON.parse(out.json!), d);
  });

  it('drops metadata first, then annotations, then cause stacks', () => {
    const stack = Array.from({ length: 200 }, (_, i) => ({ path: `/app/f${i}.js`, label: 'x'.repeat(200), line: i }));
    const big = () =>
      doc({
        metadata: { default: { blob: 'm'.repeat(40_000) } },
        annotations: { tag: 'a'.repeat(30_000) },
        cause: { exceptions: [{ id: '2222222222222222', message: 'boom', stack }] },
      });
    let out = fitDocument(big());
    assert.deepStrictEqual(out.trimmed, ['metadata', 'annotations']);
    assert.ok(bytes(out.json!) <= MAX_DOCUMENT_BYTES);
    assert.equal(JSON.parse(out.json!).cause.exceptions[0].stack.length, 200);

    const withBigStack = big();
    withBigStack.cause!.exceptions[0]!.stack = Array.from({ length: 400 }, (_, i) => ({ path: `/app/f${i}.js`, label: 'x'.repeat(200), line: i }));
    out = fitDocument(withBigStack);
    assert.deepStrictEqual(out.trimmed, ['metadata', 'annotations', 'cause_stack']);
    const parsed = JSON.parse(out.json!) as SegmentDocument;
    assert.equal(parsed.cause!.exceptions[0]!.message, 'boom');
    assert.equal(parsed.cause!.exceptions[0]!.stack, undefined);
  });

  it('counts UTF-8 bytes, not characters', () => {
    // 30 000 three-byte characters: 90 kB of UTF-8 in 30 000 UTF-16 units.
    const out = fitDocument(doc({ metadata: { default: { t: '€'.repeat(30_000) } } }));
    assert.deepStrictEqual(out.trimmed, ['metadata']);
  });

  it('cuts long fields as a last resort and gives up on what still does not fit', () => {
    const long = doc({ cause: { exceptions: [{ id: '2222222222222222', message: 'e'.repeat(100_000) }] }, sql: { sanitized_query: 'q'.repeat(10_000) } });
    const out = fitDocument(long);
    assert.deepStrictEqual(out.trimmed, ['long_fields']);
    const parsed = JSON.parse(out.json!) as SegmentDocument;
    assert.equal(parsed.cause!.exceptions[0]!.message!.length, 1024);
    assert.equal(parsed.sql!.sanitized_query!.length, 1024);
    assert.equal(fitDocument(doc({ name: 'n'.repeat(70_000) })).json, undefined);
  });

  it('never returns a document over the limit', () => {
    fc.assert(
      fc.property(fc.record({ m: fc.nat(90_000), a: fc.nat(90_000), e: fc.nat(90_000) }), ({ m, a, e }) => {
        const out = fitDocument(doc({ metadata: { default: { m: 'm'.repeat(m) } }, annotations: { a: 'a'.repeat(a) }, cause: { exceptions: [{ id: '2222222222222222', message: 'e'.repeat(e) }] } }));
        assert.ok(out.json !== undefined && bytes(out.json) <= MAX_DOCUMENT_BYTES);
      }),
      { numRuns: 50 },
    );
  });
});
