// Property: for any attributes and any action list, the processor's output validates with the
// sidecar's own validator, decodes with protobufjs, and holds exactly what a plain object-level
// model of the actions computes; the spans' other fields and unknown fields are unchanged.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AttributesProcessor } from '../../../../sidecar/processors/attributes/processor.ts';
import { attributesConfig } from '../../../../sidecar/processors/attributes/config.ts';
import { decodeTraceRequest, encodeTraceRequest, type AnyValue, type KeyValue } from '../../../../sidecar/pdata/otlp-schema.ts';
import { appendToSpans } from '../../../../sidecar/pdata/splice.ts';
import { validateTraceRequest } from '../../../../sidecar/pdata/trace-view.ts';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';
import { Capture, decodeConfig, float64le, int64le, pairs, settings, sha256, UNKNOWN } from './support.ts';

type Attrs = [string, AnyValue][];
type RawAction = Record<string, unknown>;

const KEYS = ['a', 'b', 'c', 'd.e'];
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const wireValue: fc.Arbitrary<AnyValue> = fc.oneof(
  fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('x-1', 'abc-', '12', '-7', '2.5', ' 3', '1e3')).map((v) => ({ stringValue: v })),
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }).map((v) => ({ intValue: v })),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => ({ doubleValue: v })),
  fc.boolean().map((v) => ({ boolValue: v })),
);
// Config values: a whole number is an int, so doubles are kept fractional.
const configValue: fc.Arbitrary<string | number | boolean> = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)),
  fc.boolean(),
);
const key = fc.constantFrom(...KEYS);
const action: fc.Arbitrary<RawAction> = fc.oneof(
  fc.record({ key, action: fc.constantFrom('insert', 'update', 'upsert'), value: configValue }),
  fc.record({ key, action: fc.constantFrom('insert', 'update', 'upsert'), from_attribute: key }),
  fc.record({ key, action: fc.constantFrom('delete', 'hash') }),
  fc.record({ action: fc.constantFrom('delete', 'hash'), pattern: fc.constant('^d\\.') }),
  fc.record({ key, action: fc.constant('convert'), converted_type: fc.constantFrom('int', 'double', 'string') }),
  fc.record({ key, action: fc.constant('extract'), pattern: fc.constant('^(?P<a>[a-z]+)-(?P<b>\\d*)') }),
);

// ---- The model: plain objects, the collector's rules written out directly.

function fromConfig(v: string | number | boolean): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return Number.isInteger(v) ? { intValue: BigInt(v) } : { doubleValue: v };
}

function hashOf(v: AnyValue): AnyValue {
  let bytes: Buffer;
  if (v.stringValue !== undefined) bytes = Buffer.from(v.stringValue);
  else if (v.boolValue !== undefined) bytes = Buffer.from([v.boolValue ? 1 : 0]);
  else if (v.intValue !== undefined) bytes = int64le(BigInt(v.intValue));
  else if (v.doubleValue !== undefined) bytes = float64le(v.doubleValue);
  else bytes = Buffer.alloc(0);
  return { stringValue: bytes.length === 0 ? '' : sha256(bytes) };
}

function convert(v: AnyValue, to: string): AnyValue {
  const str = v.stringValue;
  if (to === 'string') {
    if (str !== undefined) return v;
    if (v.intValue !== undefined) return { stringValue: String(v.intValue) };
    if (v.doubleValue !== undefined) return { stringValue: Object.is(v.doubleValue, -0) ? '-0' : String(v.doubleValue) };
    return { stringValue: String(v.boolValue) };
  }
  if (to === 'int') {
    if (v.doubleValue !== undefined) {
      const t = Math.trunc(v.doubleValue);
      return { intValue: t >= 2 ** 63 || t < -(2 ** 63) ? INT64_MIN : BigInt(t) };
    }
    if (v.boolValue !== undefined) return { intValue: v.boolValue ? 1n : 0n };
    if (str !== undefined && /^[+-]?\d+$/.test(str) && BigInt(str) >= INT64_MIN && BigInt(str) <= INT64_MAX) return { intValue: BigInt(str) };
    return v;
  }
  if (v.intValue !== undefined) return { doubleValue: Number(v.intValue) };
  if (v.boolValue !== undefined) return { doubleValue: v.boolValue ? 1 : 0 };
  if (str !== undefined && /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(str) && Number.isFinite(Number(str))) return { doubleValue: Number(str) };
  return v;
}

function model(actions: RawAction[], input: Attrs): Attrs {
  const attrs: Attrs = input.map(([k, v]) => [k, v]);
  const find = (k: string) => attrs.findIndex(([x]) => x === k);
  const put = (k: string, v: AnyValue) => {
    const at = find(k);
    if (at >= 0) attrs[at] = [k, v];
    else attrs.push([k, v]);
  };
  for (const a of actions) {
    const k = a.key as string | undefined;
    const hits = (x: string) => x === k || (a.pattern === '^d\\.' && x.startsWith('d.'));
    switch (a.action) {
      case 'insert':
      case 'update':
      case 'upsert': {
        let v: AnyValue | undefined;
        if (a.value !== undefined) v = fromConfig(a.value as string | number | boolean);
        else {
          const src = find(a.from_attribute as string);
          if (src >= 0) v = attrs[src]![1];
        }
        if (v === undefined) break;
        const at = find(k!);
        if (at >= 0 && a.action !== 'insert') attrs[at] = [k!, v];
        if (at < 0 && a.action !== 'update') attrs.push([k!, v]);
        break;
      }
      case 'delete':
        for (let j = attrs.length - 1; j >= 0; j--) if (hits(attrs[j]![0])) attrs.splice(j, 1);
        break;
      case 'hash':
        for (let j = 0; j < attrs.length; j++) if (hits(attrs[j]![0])) attrs[j] = [attrs[j]![0], hashOf(attrs[j]![1])];
        break;
      case 'convert': {
        const at = find(k!);
        if (at >= 0) attrs[at] = [k!, convert(attrs[at]![1], a.converted_type as string)];
        break;
      }
      case 'extract': {
        const at = find(k!);
        const str = at >= 0 ? attrs[at]![1].stringValue : undefined;
        const m = str === undefined ? null : /^([a-z]+)-(\d*)/.exec(str);
        if (m !== null) {
          put('a', { stringValue: m[1]! });
          put('b', { stringValue: m[2]! });
        }
        break;
      }
    }
  }
  return attrs;
}

describe('attributes processor: property', () => {
  it('output validates, decodes, and equals the object-level model of the actions; other fields untouched', async () => {
    const spanAttrs = fc.array(fc.tuple(key, wireValue), { maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(fc.array(spanAttrs, { minLength: 1, maxLength: 4 }), fc.array(action, { minLength: 1, maxLength: 6 }), async (spans, actions) => {
        const plain = encodeTraceRequest({
          resourceSpans: [
            {
              resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
              scopeSpans: [{ spans: spans.map((attrs, n) => ({ name: `s${n}`, traceId: Buffer.alloc(16, n + 1), spanId: Buffer.alloc(8, n + 1), droppedAttributesCount: n, attributes: attrs.map(([k, value]): KeyValue => ({ key: k, value })) })) }],
            },
          ],
        });
        const view = TracesData.fromProto(plain).view;
        const withUnknown = appendToSpans(plain, new Map(spans.map((_, n) => [view.spanStart(n), UNKNOWN])));
        const next = new Capture();
        await new AttributesProcessor(settings, decodeConfig(attributesConfig, { actions }), next).consumeTraces(TracesData.fromProto(withUnknown));
        const out = next.got[0]!;
        validateTraceRequest(out.bytes);
        const got = decodeTraceRequest(out.bytes).resourceSpans![0]!.scopeSpans![0]!.spans!;
        assert.equal(got.length, spans.length);
        got.forEach((sp, n) => {
          assert.deepEqual(pairs(sp.attributes), model(actions, spans[n]!));
          assert.equal(sp.name, `s${n}`);
          assert.equal(sp.droppedAttributesCount ?? 0, n);
        });
        let unknown = 0;
        for (let at = Buffer.from(out.bytes).indexOf(UNKNOWN); at !== -1; at = Buffer.from(out.bytes).indexOf(UNKNOWN, at + 1)) unknown++;
        assert.equal(unknown, spans.length, 'each span keeps its unknown fields');
      }),
      { numRuns: 300 },
    );
  });
});
