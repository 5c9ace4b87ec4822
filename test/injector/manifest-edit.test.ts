// The YAML editing under `inject`, on any JSON Patch rather than only the ones today's mutation
// makes: random edits (values YAML 1.1 would misread, keys added and removed, items inserted,
// replaced and removed, flow collections, anchors and merge keys) applied to the nodes of real
// manifests and spliced into their text must read back, as kubectl reads YAML, as the edited
// value, and leave the text outside the edit alone.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { diff } from '../../injector/json-patch.ts';
import { applyPatch, patchProblem } from '../../injector/yaml-edit.ts';
import { documentValue, parseManifest } from '../../injector/yaml-kubectl.ts';
import { applyTextEdits, detectStyle, spliceDocument, takeSnapshot } from '../../injector/yaml-splice.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`./fixtures/manifests/${name}`, import.meta.url)), 'utf8');

// Strings that YAML 1.1 (or YAML at all) would read as something else when written plain.
const TRICKY = ['off', 'yes', 'Y', 'n', 'On', 'NO', '0400', '0o17', '0x1F', '1e3', '1_000', '.5', '~', 'null', '', ' lead', 'trail ', 'a: b', '#x', 'x #y', '- x', '[x]', '{a}', "'q'", '"dq"', 'multi\nline\n', 'tab\tx', '1:30', '2024-01-01', '<<', '*ref', '&anchor', '!tag', '%', '@x', '`x', 'é✓'];

const scalar: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(...TRICKY),
  fc.string({ maxLength: 6 }),
  fc.integer({ min: -5000, max: 5000 }),
  fc.constantFrom(0.5, 1e21, 256, 420),
  fc.boolean(),
  fc.constant(null),
);
const value: fc.Arbitrary<Json> = fc.letrec<{ node: Json }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...TRICKY), fc.string({ maxLength: 4 })).filter((k) => k !== '__proto__'), tie('node'), { maxKeys: 3 }),
  ),
})).node.map((v) => JSON.parse(JSON.stringify(v)) as Json); // plain objects, as JSON.parse makes

interface Mutation {
  at: number;
  kind: number;
  index: number;
  key: string;
  value: Json;
}
const mutation = fc.record({ at: fc.nat(), kind: fc.nat({ max: 2 }), index: fc.nat(), key: fc.oneof(fc.constantFrom('env', 'name', 'tracebridge.io/status', 'a~b/c'), fc.constantFrom(...TRICKY)), value });

function containers(v: Json, out: (Json[] | Record<string, Json>)[] = []): (Json[] | Record<string, Json>)[] {
  if (Array.isArray(v)) {
    out.push(v);
    v.forEach((x) => containers(x, out));
  } else if (v !== null && typeof v === 'object') {
    out.push(v);
    Object.values(v).forEach((x) => containers(x, out));
  }
  return out;
}

/** Adds, replaces or removes one member of one collection of `v` (in place). */
function mutate(v: Json, m: Mutation): void {
  const all = containers(v).slice(1); // never the object itself: the patch's paths start below it
  if (all.length === 0) return;
  const c = all[m.at % all.length]!;
  if (Array.isArray(c)) {
    const i = c.length === 0 ? 0 : m.index % (m.kind === 0 ? c.length + 1 : c.length);
    if (m.kind === 0 || c.length === 0) c.splice(i, 0, structuredClone(m.value));
    else if (m.kind === 1) c[i] = structuredClone(m.value);
    else c.splice(i, 1);
  } else {
    const keys = Object.keys(c);
    if (m.kind === 0 || keys.length === 0) c[m.key] = structuredClone(m.value);
    else if (m.kind === 1) c[keys[m.index % keys.length]!] = structuredClone(m.value);
    else delete c[keys[m.index % keys.length]!];
  }
}

/** Text before the first and after the last edit is untouched (but for a final line break the text did not have). */
function outsideEditsKept(before: string, after: string, edits: readonly { start: number; end: number }[]): void {
  const start = Math.min(...edits.map((e) => e.start));
  const end = Math.max(...edits.map((e) => e.end));
  const head = before.slice(0, start);
  assert.ok(after.startsWith(end === before.length && !before.endsWith('\n') ? head.replace(/\r?\n$/, '') : head), 'text before the edits kept');
  assert.ok(after.endsWith(before.slice(end)), 'text after the edits kept');
}

const CASES: [string, string][] = [
  ['the Helm Deployment', fixture('helm-shop.yaml').split(/^(?=---$)/m)[5]!],
  ['the flow-style Pod', fixture('helm-shop.yaml').split(/^(?=---$)/m)[9]!],
  ['the List with anchors and merge keys', fixture('shared-env.yaml').split(/^(?=---$)/m)[0]!],
  ['the Deployment sharing an anchored env', fixture('shared-env.yaml').split(/^(?=---$)/m)[1]!],
  ['kubectl style, CRLF', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: a\n    args:\n    - |+\n      keep\n\n    env: []\n  volumes: [{name: v, emptyDir: {}}]\n'.replace(/\n/g, '\r\n')],
  ['no final line break', 'kind: Pod\nspec:\n  containers:\n    - name: a\n      ports: [{containerPort: 80}]\n      resources:\n        limits: {memory: 1Gi}'],
];

describe('YAML edits from any JSON Patch', () => {
  for (const [name, text] of CASES) {
    it(`${name}: reads back as the patched value and keeps the text around the edits`, () => {
      let applied = 0;
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
          const [doc] = parseManifest(text);
          const before = documentValue(doc!) as Json;
          const after = structuredClone(before);
          for (const m of mutations) mutate(after, m);
          const ops = diff(before, after);
          if (ops.length === 0) return;
          const target = { doc: doc!, base: [], ops };
          if (patchProblem(target) !== undefined) return; // refused: nothing is written
          const snapshot = takeSnapshot(doc!);
          applyPatch(target);
          const edits = spliceDocument(text, doc!, snapshot, detectStyle(doc!, text));
          const out = applyTextEdits(text, edits);
          const [back] = parseManifest(out);
          assert.deepEqual(documentValue(back!), after, out);
          if (edits.length > 0) outsideEditsKept(text, out, edits);
          assert.equal(out.endsWith('\n'), text.endsWith('\n'), 'a final line break only where there was one');
          if (text.includes('\r\n')) assert.doesNotMatch(out, /[^\r]\n/, 'CRLF throughout');
          applied++;
        }),
        { numRuns: 150 },
      );
      assert.ok(applied > 50, `most patches applied (${applied})`);
    });
  }
});
