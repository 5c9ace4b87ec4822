// The resource processor: the attribute actions on each ResourceSpans' Resource, on the wire form;
// spans and the Resource's other fields (unknown ones included) pass byte for byte.
import assert from 'node:assert/strict';
import { ResourceProcessor } from '../../../../sidecar/processors/resource/processor.ts';
import { resourceConfig } from '../../../../sidecar/processors/resource/config.ts';
import { decodeTraceRequest, encodeTraceRequest, type ResourceSpans } from '../../../../sidecar/pdata/otlp-schema.ts';
import { encodeStringKeyValue, lenField } from '../../../../sidecar/pdata/splice.ts';
import { TAG_RESOURCE_ATTRIBUTES, TAG_RESOURCE_SPANS_RESOURCE, TAG_TRACE_REQUEST_RESOURCE_SPANS } from '../../../../sidecar/pdata/fields.ts';
import { validateTraceRequest } from '../../../../sidecar/pdata/trace-view.ts';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';
import { Capture, decodeConfig, i, kv, pairs, s, settings, sha256, UNKNOWN } from '../attributes/support.ts';

async function run(attributes: unknown[], req: Uint8Array) {
  const next = new Capture();
  const p = new ResourceProcessor(settings, decodeConfig(resourceConfig, { attributes }, 'processors.resource'), next);
  const input = TracesData.fromProto(req);
  await p.consumeTraces(input);
  const out = next.got[0]!;
  validateTraceRequest(out.bytes);
  return { input, out, decoded: decodeTraceRequest(out.bytes) };
}

const SPANS = [{ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 1), name: 'a', attributes: [kv('service.name', s('span-level'))] }];

describe('resource processor', () => {
  it('applies the actions once per ResourceSpans: upsert, insert, update, delete, hash, convert', async () => {
    const rs: ResourceSpans[] = [
      { resource: { attributes: [kv('service.name', s('checkout')), kv('k8s.pod.uid', s('u-1')), kv('pid', s('42')), kv('secret', s('x'))], droppedAttributesCount: 2 }, scopeSpans: [{ spans: SPANS }] },
      { resource: { attributes: [kv('deployment.environment', s('dev'))] }, scopeSpans: [{ spans: SPANS }] },
    ];
    const actions = [
      { key: 'cloud.zone', value: 'zone-1', action: 'upsert' },
      { key: 'service.name', value: 'fallback', action: 'insert' },
      { key: 'deployment.environment', value: 'prod', action: 'update' },
      { key: 'k8s.pod.uid', action: 'delete' },
      { key: 'secret', action: 'hash' },
      { key: 'pid', action: 'convert', converted_type: 'int' },
    ];
    const { decoded } = await run(actions, encodeTraceRequest({ resourceSpans: rs }));
    assert.deepEqual(pairs(decoded.resourceSpans![0]!.resource!.attributes), [
      ['service.name', s('checkout')],
      ['pid', i(42)],
      ['secret', s(sha256(Buffer.from('x')))],
      ['cloud.zone', s('zone-1')],
    ]);
    assert.equal(decoded.resourceSpans![0]!.resource!.droppedAttributesCount, 2);
    assert.deepEqual(pairs(decoded.resourceSpans![1]!.resource!.attributes), [
      ['deployment.environment', s('prod')],
      ['cloud.zone', s('zone-1')],
      ['service.name', s('fallback')],
    ]);
    // Span attributes are not resource attributes: untouched.
    for (const r of decoded.resourceSpans!) assert.deepEqual(pairs(r.scopeSpans![0]!.spans![0]!.attributes), [['service.name', s('span-level')]]);
  });

  it('gives a ResourceSpans without a Resource one when an action adds an attribute', async () => {
    const { decoded } = await run([{ key: 'k8s.cluster.name', value: 'c1', action: 'insert' }], encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: SPANS }] }] }));
    assert.deepEqual(pairs(decoded.resourceSpans![0]!.resource!.attributes), [['k8s.cluster.name', s('c1')]]);
    assert.equal(decoded.resourceSpans![0]!.scopeSpans![0]!.spans![0]!.name, 'a');
  });

  it('passes a batch it does not change as it is', async () => {
    const { input, out } = await run([{ key: 'absent', action: 'delete' }, { key: 'service.name', value: 'x', action: 'insert' }], encodeTraceRequest({ resourceSpans: [{ resource: { attributes: [kv('service.name', s('a'))] }, scopeSpans: [{ spans: SPANS }] }] }));
    assert.equal(out, input);
  });

  it('keeps the Resource’s unknown fields, the ResourceSpans’ unknown fields and the spans byte for byte', async () => {
    const scopeSpans = Buffer.from(encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: SPANS }] }] })).subarray(2); // the ScopeSpans field
    const resource = Buffer.concat([lenField(TAG_RESOURCE_ATTRIBUTES, encodeStringKeyValue('keep', 'me')), lenField(TAG_RESOURCE_ATTRIBUTES, encodeStringKeyValue('drop', 'me')), UNKNOWN]);
    const rsUnknown = Buffer.from([0x3a, 0x02, 0x7a, 0x7a]); // field 7, LEN "zz"
    const rs = Buffer.concat([lenField(TAG_RESOURCE_SPANS_RESOURCE, resource), scopeSpans, rsUnknown]);
    const req = lenField(TAG_TRACE_REQUEST_RESOURCE_SPANS, rs);
    const { out, decoded } = await run([{ key: 'drop', action: 'delete' }], req);
    const wantResource = Buffer.concat([lenField(TAG_RESOURCE_ATTRIBUTES, encodeStringKeyValue('keep', 'me')), UNKNOWN]);
    const want = lenField(TAG_TRACE_REQUEST_RESOURCE_SPANS, Buffer.concat([lenField(TAG_RESOURCE_SPANS_RESOURCE, wantResource), scopeSpans, rsUnknown]));
    assert.deepEqual(Buffer.from(out.bytes), Buffer.from(want));
    assert.deepEqual(pairs(decoded.resourceSpans![0]!.resource!.attributes), [['keep', s('me')]]);
  });
});
