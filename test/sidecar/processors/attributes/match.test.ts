// include / exclude of the attributes processor: which spans the actions touch, with the
// collector's rules (AND across properties, OR within services / span_names / span_kinds, every
// listed attribute / resource / library must match, strict vs regexp).
import assert from 'node:assert/strict';
import { AttributesProcessor } from '../../../../sidecar/processors/attributes/processor.ts';
import { attributesConfig } from '../../../../sidecar/processors/attributes/config.ts';
import { formatFloatF } from '../../../../sidecar/processors/attributes/match.ts';
import { decodeTraceRequest, encodeTraceRequest, type ResourceSpans } from '../../../../sidecar/pdata/otlp-schema.ts';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';
import { b, Capture, d, decodeConfig, i, kv, s, settings } from './support.ts';

// Spans: [service, scope name@version, span name, kind, attributes]
const BATCH: ResourceSpans[] = [
  {
    resource: { attributes: [kv('service.name', s('checkout')), kv('k8s.namespace.name', s('shop'))] },
    scopeSpans: [
      {
        scope: { name: 'http', version: '1.2' },
        spans: [
          { name: 'GET /health', kind: 2, attributes: [kv('http.status_code', i(200)), kv('http.route', s('/health'))] },
          { name: 'POST /orders', kind: 2, attributes: [kv('http.status_code', i(500)), kv('retry', b(true)), kv('ratio', d(0.25))] },
        ],
      },
      { scope: { name: 'db' }, spans: [{ name: 'SELECT', kind: 3, attributes: [kv('db.system', s('postgresql'))] }] },
    ],
  },
  { resource: { attributes: [kv('service.name', s('payments'))] }, scopeSpans: [{ scope: { name: 'http', version: '2.0' }, spans: [{ name: 'GET /pay', kind: 3 }] }] },
  { scopeSpans: [{ spans: [{ name: 'orphan', kind: 1 }] }] },
];

/** Names of the spans the rules let the actions touch (they get `touched: true`). */
async function touched(rules: Record<string, unknown>): Promise<string[]> {
  const next = new Capture();
  const cfg = decodeConfig(attributesConfig, { actions: [{ key: 'touched', action: 'insert', value: true }], ...rules });
  await new AttributesProcessor(settings, cfg, next).consumeTraces(TracesData.fromProto(encodeTraceRequest({ resourceSpans: BATCH })));
  const out: string[] = [];
  for (const rs of decodeTraceRequest(next.got[0]!.bytes).resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) for (const sp of ss.spans ?? []) if (sp.attributes?.some((a) => a.key === 'touched')) out.push(sp.name!);
  }
  return out;
}

const ALL = ['GET /health', 'POST /orders', 'SELECT', 'GET /pay', 'orphan'];

describe('attributes processor: include / exclude', () => {
  it('without rules every span is processed', async () => {
    assert.deepEqual(await touched({}), ALL);
  });

  it('services: strict, OR over items, from the resource service.name', async () => {
    assert.deepEqual(await touched({ include: { match_type: 'strict', services: ['payments', 'nope'] } }), ['GET /pay']);
    assert.deepEqual(await touched({ include: { match_type: 'regexp', services: ['^check'] } }), ['GET /health', 'POST /orders', 'SELECT']);
    // A resource without service.name is "<nil-service-name>", as in the collector.
    assert.deepEqual(await touched({ include: { match_type: 'strict', services: ['<nil-service-name>'] } }), ['orphan']);
  });

  it('span_names: strict is exact, regexp is an unanchored search', async () => {
    assert.deepEqual(await touched({ include: { match_type: 'strict', span_names: ['GET'] } }), []);
    assert.deepEqual(await touched({ include: { match_type: 'regexp', span_names: ['GET'] } }), ['GET /health', 'GET /pay']);
    assert.deepEqual(await touched({ exclude: { match_type: 'regexp', span_names: ['(?i)^get '] } }), ['POST /orders', 'SELECT', 'orphan']);
  });

  it('span_kinds', async () => {
    assert.deepEqual(await touched({ include: { match_type: 'strict', span_kinds: ['SPAN_KIND_CLIENT'] } }), ['SELECT', 'GET /pay']);
    assert.deepEqual(await touched({ include: { match_type: 'regexp', span_kinds: ['INTERNAL$'] } }), ['orphan']);
  });

  it('attributes: every listed key must be there; strict compares value and type; key alone tests presence', async () => {
    assert.deepEqual(await touched({ include: { match_type: 'strict', attributes: [{ key: 'http.status_code', value: 500 }] } }), ['POST /orders']);
    assert.deepEqual(await touched({ include: { match_type: 'strict', attributes: [{ key: 'http.status_code', value: '500' }] } }), []);
    assert.deepEqual(await touched({ include: { match_type: 'strict', attributes: [{ key: 'http.status_code' }] } }), ['GET /health', 'POST /orders']);
    assert.deepEqual(await touched({ include: { match_type: 'strict', attributes: [{ key: 'http.status_code' }, { key: 'retry', value: true }] } }), ['POST /orders']);
    assert.deepEqual(await touched({ include: { match_type: 'strict', attributes: [{ key: 'ratio', value: 0.25 }] } }), ['POST /orders']);
  });

  it('attributes with regexp match the text of ints, doubles and bools too', async () => {
    assert.deepEqual(await touched({ include: { match_type: 'regexp', attributes: [{ key: 'http.status_code', value: '^5\\d\\d$' }] } }), ['POST /orders']);
    assert.deepEqual(await touched({ include: { match_type: 'regexp', attributes: [{ key: 'retry', value: '^true$' }, { key: 'ratio', value: '^0\\.25$' }] } }), ['POST /orders']);
  });

  it('resources: every listed resource attribute must match', async () => {
    assert.deepEqual(await touched({ include: { match_type: 'strict', resources: [{ key: 'k8s.namespace.name', value: 'shop' }] } }), ['GET /health', 'POST /orders', 'SELECT']);
    assert.deepEqual(await touched({ include: { match_type: 'strict', resources: [{ key: 'k8s.namespace.name' }, { key: 'service.name', value: 'payments' }] } }), []);
  });

  it('libraries: name, and version when given ("" matches only an empty version)', async () => {
    assert.deepEqual(await touched({ include: { match_type: 'strict', libraries: [{ name: 'http' }] } }), ['GET /health', 'POST /orders', 'GET /pay']);
    assert.deepEqual(await touched({ include: { match_type: 'strict', libraries: [{ name: 'http', version: '2.0' }] } }), ['GET /pay']);
    assert.deepEqual(await touched({ include: { match_type: 'strict', libraries: [{ name: 'db', version: '' }] } }), ['SELECT']);
    assert.deepEqual(await touched({ include: { match_type: 'regexp', libraries: [{ name: '^(http|db)$', version: '^1\\.' }] } }), ['GET /health', 'POST /orders']);
  });

  it('properties of one rule are ANDed', async () => {
    assert.deepEqual(await touched({ include: { match_type: 'regexp', services: ['checkout'], span_names: ['^GET'] } }), ['GET /health']);
  });

  it('include first, then exclude', async () => {
    assert.deepEqual(
      await touched({ include: { match_type: 'strict', services: ['checkout'] }, exclude: { match_type: 'strict', attributes: [{ key: 'http.route', value: '/health' }] } }),
      ['POST /orders', 'SELECT'],
    );
    assert.deepEqual(await touched({ exclude: { match_type: 'strict', span_kinds: ['SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT'] } }), ['orphan']);
  });

  it('formats doubles as Go FormatFloat(f, "f", -1) for regexp matching', () => {
    assert.equal(formatFloatF(0.25), '0.25');
    assert.equal(formatFloatF(1e21), '1000000000000000000000');
    assert.equal(formatFloatF(1.5e-7), '0.00000015');
    assert.equal(formatFloatF(1.2345e22), '12345000000000000000000');
    assert.equal(formatFloatF(-0), '-0');
    assert.equal(formatFloatF(Infinity), '+Inf');
  });
});
