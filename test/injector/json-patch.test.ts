import assert from 'node:assert/strict';
import fc from 'fast-check';
import jsonpatch from 'fast-json-patch';
import { diff, escapePointerToken, type JsonPatchOperation } from '../../injector/json-patch.ts';

/** Applies with an independent implementation, validating every operation (missing parents fail). */
function apply(doc: unknown, ops: JsonPatchOperation[]): unknown {
  return jsonpatch.applyPatch(structuredClone(doc), ops as jsonpatch.Operation[], true, false).newDocument;
}

const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('injector/json-patch', () => {
  it('escapes ~ before / (RFC 6901)', () => {
    assert.equal(escapePointerToken('tracebridge.io/status'), 'tracebridge.io~1status');
    assert.equal(escapePointerToken('a~b/c'), 'a~0b~1c');
    assert.equal(escapePointerToken('~1'), '~01');
  });

  it('adds a whole missing parent in one operation', () => {
    const ops = diff({ metadata: { name: 'p' } }, { metadata: { name: 'p', annotations: { 'tracebridge.io/status': '{}' } } });
    assert.deepEqual(ops, [{ op: 'add', path: '/metadata/annotations', value: { 'tracebridge.io/status': '{}' } }]);
  });

  it('adds into an existing map with escaped keys', () => {
    const before = { metadata: { annotations: { 'a~b/c': 'x' } } };
    const after = { metadata: { annotations: { 'a~b/c': 'x', 'tracebridge.io/status': 's' } } };
    const ops = diff(before, after);
    assert.deepEqual(ops, [{ op: 'add', path: '/metadata/annotations/tracebridge.io~1status', value: 's' }]);
    assert.deepEqual(apply(before, ops), after);
  });

  it('appends to arrays by index and leaves other elements untouched', () => {
    const before = { containers: [{ name: 'a' }, { name: 'b' }] };
    const after = { containers: [{ name: 'a' }, { name: 'b' }, { name: 'tracebridge' }] };
    assert.deepEqual(diff(before, after), [{ op: 'add', path: '/containers/2', value: { name: 'tracebridge' } }]);
  });

  it('inserts at the front without rewriting the rest', () => {
    const before = [{ n: 1 }, { n: 2 }];
    const after = [{ n: 0 }, { n: 1 }, { n: 2 }];
    assert.deepEqual(diff(before, after), [{ op: 'add', path: '/0', value: { n: 0 } }]);
  });

  it('removes from arrays highest index first', () => {
    const ops = diff([1, 2, 3, 4], [1]);
    assert.deepEqual(ops, [
      { op: 'remove', path: '/3' },
      { op: 'remove', path: '/2' },
      { op: 'remove', path: '/1' },
    ]);
    assert.deepEqual(apply([1, 2, 3, 4], ops), [1]);
  });

  it('replaces across kinds and at the root', () => {
    assert.deepEqual(diff({ a: [1] }, { a: { b: 1 } }), [{ op: 'replace', path: '/a', value: { b: 1 } }]);
    assert.deepEqual(diff([1], { a: 1 }), [{ op: 'replace', path: '', value: { a: 1 } }]);
    assert.deepEqual(diff({ a: 1 }, { a: 1 }), []);
  });

  it('treats undefined members as absent', () => {
    assert.deepEqual(diff({ a: 1, b: undefined }, { a: 1 }), []);
    assert.deepEqual(diff({ a: 1 }, { a: 1, b: undefined }), []);
  });

  it('applied to the original, always yields the target (property, keys with / and ~)', () => {
    const key = fc.oneof(fc.constantFrom('a', 'b', 'x/y', 'm~n', '~1', '/', '~', '', 'tracebridge.io/status'), fc.string({ maxLength: 4 }));
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 3 })),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(key.filter((k) => k !== '__proto__'), tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    // Pairs that share structure (the common case for a mutation) as well as unrelated ones.
    const pair = fc.oneof(
      fc.tuple(value, value),
      value.chain((a) => fc.tuple(fc.constant(a), fc.constant(json(a))).map(([x, y]) => [x, mutateSome(y)] as const)),
    );
    fc.assert(
      fc.property(pair, ([a, b]) => {
        const ops = diff(a, b);
        assert.deepEqual(json(apply(a, ops)), json(b));
        assert.deepEqual(diff(a, a), []);
      }),
      { numRuns: 400 },
    );
  });
});

/** Deterministic edits inside a JSON tree: appends, a new key, a changed scalar. */
function mutateSome(v: unknown): unknown {
  if (Array.isArray(v)) return [...v.map(mutateSome), 'added'];
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = mutateSome(x);
    out['new/key~'] = { nested: [1] };
    return out;
  }
  if (typeof v === 'number') return v + 1;
  return v;
}
