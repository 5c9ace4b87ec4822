import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { TracesConsumer } from '../../../../sidecar/component/component.ts';
import { detectEnv } from '../../../../sidecar/processors/resourcedetection/env-detector.ts';
import { ResourceDetectionProcessor } from '../../../../sidecar/processors/resourcedetection/processor.ts';
import { decodeTraceRequest, encodeTraceRequest, type KeyValue } from '../../../../sidecar/pdata/otlp-schema.ts';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';
import { countSpans } from '../../../../sidecar/pdata/wire.ts';
import { MetricsRegistry } from '../../../../sidecar/telemetry/metrics.ts';
import { silentLogger } from '../../../support/sink.ts';

const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

class Capture implements TracesConsumer {
  got: TracesData[] = [];
  consumeTraces(d: TracesData): Promise<void> {
    this.got.push(d);
    return Promise.resolve();
  }
}

function processor(env: Record<string, string>, override = true) {
  const next = new Capture();
  const p = new ResourceDetectionProcessor({ id: 'resourcedetection', kind: 'processor', logger: silentLogger, metrics: new MetricsRegistry() }, override, detectEnv(env).attributes, next);
  return { p, next };
}

const attrs = (d: TracesData, i = 0) =>
  Object.fromEntries((decodeTraceRequest(d.bytes).resourceSpans![i]!.resource?.attributes ?? []).map((a) => [a.key, a.value?.stringValue ?? a.value?.intValue]));

const ENV = { OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=checkout-7d9f,k8s.namespace.name=shop,team=a%2Cb%3Dc', OTEL_SERVICE_NAME: 'sidecar-name' };

describe('resourcedetection processor (env detector)', () => {
  it('parses OTEL_RESOURCE_ATTRIBUTES (percent-decoded) and OTEL_SERVICE_NAME, which wins for service.name', () => {
    const d = detectEnv({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=a, k8s.pod.uid = 42 ,x=%E2%9C%93', OTEL_SERVICE_NAME: 'b' });
    assert.deepEqual([...d.attributes], [['service.name', 'b'], ['k8s.pod.uid', '42'], ['x', '✓']]);
    assert.equal(detectEnv({}).attributes.size, 0);
  });

  it('ignores a malformed OTEL_RESOURCE_ATTRIBUTES whole, as the SDK specification asks', () => {
    for (const bad of ['a=1,novalue', 'a=%ZZ', '=x']) {
      const d = detectEnv({ OTEL_RESOURCE_ATTRIBUTES: bad });
      assert.equal(d.attributes.size, 0, bad);
      assert.ok(d.problem);
    }
  });

  it('overrides same-key attributes by default and keeps the others, on the encoded bytes', async () => {
    const { p, next } = processor(ENV);
    const req = encodeTraceRequest({
      resourceSpans: [
        { resource: { attributes: [str('service.name', 'checkout'), str('k8s.pod.name', 'stale'), { key: 'pid', value: { intValue: 7n } }] }, scopeSpans: [{ spans: [{ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 1), name: 'a' }] }] },
        { scopeSpans: [{ spans: [{ traceId: Buffer.alloc(16, 2), spanId: Buffer.alloc(8, 2), name: 'b' }] }] },
      ],
    });
    await p.consumeTraces(TracesData.fromProto(req));
    const out = next.got[0]!;
    assert.equal(out.spanCount, 2);
    assert.equal(countSpans(out.bytes), 2);
    assert.deepEqual(attrs(out, 0), { pid: 7n, 'k8s.pod.name': 'checkout-7d9f', 'k8s.namespace.name': 'shop', team: 'a,b=c', 'service.name': 'sidecar-name' });
    assert.deepEqual(attrs(out, 1), { 'k8s.pod.name': 'checkout-7d9f', 'k8s.namespace.name': 'shop', team: 'a,b=c', 'service.name': 'sidecar-name' });
    const spans = decodeTraceRequest(out.bytes).resourceSpans!.map((rs) => rs.scopeSpans![0]!.spans![0]!.name);
    assert.deepEqual(spans, ['a', 'b']);
  });

  it('with override: false only adds missing keys, and passes unchanged bytes through untouched', async () => {
    const { p, next } = processor({ OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=p1,service.name=env' }, false);
    const partial = TracesData.fromProto(encodeTraceRequest({ resourceSpans: [{ resource: { attributes: [str('service.name', 'checkout')] }, scopeSpans: [{ spans: [{ name: 'x' }] }] }] }));
    await p.consumeTraces(partial);
    assert.deepEqual(attrs(next.got[0]!), { 'service.name': 'checkout', 'k8s.pod.name': 'p1' });
    const complete = TracesData.fromProto(next.got[0]!.bytes);
    await p.consumeTraces(complete);
    assert.equal(next.got[1], complete, 'nothing to add: the same data goes on');
  });

  it('keeps fields it does not know, in the resource and elsewhere', async () => {
    const { p, next } = processor({ OTEL_RESOURCE_ATTRIBUTES: 'a=1' });
    // ResourceSpans{ Resource{ attr b; unknown field 9 = 0x2a }, ScopeSpans{...}, unknown field 7 LEN "zz" }
    const resource = Buffer.concat([Buffer.from([0x0a]), lenPrefixed(Buffer.concat([encodeKv('b', '2'), Buffer.from([0x48, 0x2a])]))]);
    // The ScopeSpans field of an encoded one-ResourceSpans request: skip the outer tag and 1-byte length.
    const scopeBytes = Buffer.from(encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'x' }] }] }] })).subarray(2);
    const rs = Buffer.concat([resource, scopeBytes, Buffer.from([0x3a, 0x02, 0x7a, 0x7a])]);
    const req = Buffer.concat([Buffer.from([0x0a]), lenPrefixed(rs)]);
    await p.consumeTraces(TracesData.fromProto(req));
    const out = Buffer.from(next.got[0]!.bytes);
    assert.ok(out.includes(Buffer.from([0x48, 0x2a])), 'unknown Resource field kept');
    assert.ok(out.includes(Buffer.from([0x3a, 0x02, 0x7a, 0x7a])), 'unknown ResourceSpans field kept');
    assert.deepEqual(attrs(next.got[0]!), { b: '2', a: '1' });
  });

  it('gives every resource the detected attributes, for any request (property)', async () => {
    const { p, next } = processor({ OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=p,k8s.node.name=n' });
    const kv = fc.record({ key: fc.constantFrom('k8s.pod.name', 'service.name', 'x', 'y'), value: fc.record({ stringValue: fc.string() }) });
    const rs = fc.record({
      resource: fc.option(fc.record({ attributes: fc.array(kv, { maxLength: 4 }) }), { nil: undefined }),
      scopeSpans: fc.array(fc.record({ spans: fc.array(fc.record({ name: fc.string() }), { maxLength: 3 }) }), { maxLength: 2 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(rs, { maxLength: 4 }), async (resourceSpans) => {
        const before = encodeTraceRequest({ resourceSpans });
        next.got = [];
        await p.consumeTraces(TracesData.fromProto(before));
        const out = decodeTraceRequest(next.got[0]!.bytes);
        assert.equal(countSpans(next.got[0]!.bytes), countSpans(before));
        out.resourceSpans?.forEach((r, i) => {
          const a = r.resource?.attributes ?? [];
          assert.equal(a.filter((x) => x.key === 'k8s.pod.name').length, 1);
          assert.equal(a.find((x) => x.key === 'k8s.pod.name')?.value?.stringValue, 'p');
          assert.equal(a.find((x) => x.key === 'k8s.node.name')?.value?.stringValue, 'n');
          const kept = (resourceSpans[i]!.resource?.attributes ?? []).filter((x) => x.key !== 'k8s.pod.name').map((x) => x.key);
          assert.deepEqual(a.map((x) => x.key).slice(0, kept.length), kept);
          assert.deepEqual(r.scopeSpans ?? [], decodeTraceRequest(before).resourceSpans![i]!.scopeSpans ?? []);
        });
      }),
      { numRuns: 200 },
    );
  });
});

function lenPrefixed(b: Buffer): Buffer {
  const out: number[] = [];
  let n = b.length;
  while (n >= 128) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.concat([Buffer.from(out), b]);
}

function encodeKv(k: string, v: string): Buffer {
  const value = Buffer.concat([Buffer.from([0x0a]), lenPrefixed(Buffer.from(v))]);
  const kv = Buffer.concat([Buffer.from([0x0a]), lenPrefixed(Buffer.from(k)), Buffer.from([0x12]), lenPrefixed(value)]);
  return Buffer.concat([Buffer.from([0x0a]), lenPrefixed(kv)]);
}
