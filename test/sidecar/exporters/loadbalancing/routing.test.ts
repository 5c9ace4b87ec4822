// Splitting a batch by routing key: each backend's part holds exactly the spans it owns, with
// their resources and scopes, and nothing is lost or duplicated.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { HashRing } from '../../../../sidecar/exporters/loadbalancing/ring.ts';
import { KeyHasher, route } from '../../../../sidecar/exporters/loadbalancing/routing.ts';
import { decodeTraceRequest, encodeTraceRequest, type KeyValue } from '../../../../sidecar/pdata/otlp-schema.ts';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';

const ring = new HashRing(['gw-0:4317', 'gw-1:4317', 'gw-2:4317']);
const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

interface SpanSpec {
  trace: Buffer;
  attrs?: KeyValue[];
}

function request(resources: { attrs: KeyValue[]; spans: SpanSpec[] }[]): TracesData {
  return TracesData.fromProto(
    encodeTraceRequest({
      resourceSpans: resources.map((r) => ({
        resource: { attributes: r.attrs },
        scopeSpans: [{ scope: { name: 'lib' }, spans: r.spans.map((s) => ({ traceId: s.trace, spanId: randomBytes(8), name: 'op', attributes: s.attrs })) }],
      })),
    }),
  );
}

/** endpoint -> [service.name, trace ID hex, span attribute values] of every span in its part. */
function parts(data: TracesData, hasher: KeyHasher): Map<string, { service: string; trace: string; attrs: string }[]> {
  const out = new Map<string, { service: string; trace: string; attrs: string }[]>();
  for (const r of route(data, ring, hasher)) {
    const spans = [];
    let count = 0;
    for (const rs of decodeTraceRequest(r.data.bytes).resourceSpans ?? []) {
      const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue ?? '';
      for (const ss of rs.scopeSpans ?? []) {
        assert.equal(ss.scope?.name, 'lib');
        for (const sp of ss.spans ?? []) {
          count++;
          spans.push({ service, trace: Buffer.from(sp.traceId!).toString('hex'), attrs: (sp.attributes ?? []).map((a) => a.value?.stringValue).join(',') });
        }
      }
    }
    assert.equal(r.data.spanCount, count, 'span count of the part');
    assert.ok(!out.has(r.endpoint), 'one part per backend');
    out.set(r.endpoint, spans);
  }
  return out;
}

describe('loadbalancing routing', () => {
  const traces = Array.from({ length: 60 }, () => randomBytes(16));

  it('traceID: each part holds exactly the spans of the traces its backend owns, across resources', () => {
    const data = request([
      { attrs: [str('service.name', 'a')], spans: traces.map((trace) => ({ trace })) },
      { attrs: [str('service.name', 'b')], spans: traces.map((trace) => ({ trace })) },
    ]);
    const p = parts(data, new KeyHasher('traceID'));
    assert.equal(p.size, 3);
    let total = 0;
    for (const [ep, spans] of p) {
      total += spans.length;
      for (const s of spans) assert.equal(ring.endpointFor(Buffer.from(s.trace, 'hex')), ep);
      // Both resources of a trace travel together.
      for (const t of new Set(spans.map((s) => s.trace))) assert.deepEqual(spans.filter((s) => s.trace === t).map((s) => s.service).sort(), ['a', 'b']);
    }
    assert.equal(total, 120);
  });

  it('a batch owned by one backend is passed whole, without a copy', () => {
    const t = traces[0]!;
    const data = request([{ attrs: [str('service.name', 'a')], spans: [{ trace: t }, { trace: t }] }]);
    const routes = route(data, ring, new KeyHasher('traceID'));
    assert.equal(routes.length, 1);
    assert.equal(routes[0]!.data, data);
  });

  it('service: the spans of a service stay together whatever their trace', () => {
    const services = Array.from({ length: 12 }, (_, i) => `svc-${i}`);
    const data = request(services.map((s) => ({ attrs: [str('service.name', s), str('host.name', 'h')], spans: traces.slice(0, 5).map((trace) => ({ trace })) })));
    const p = parts(data, new KeyHasher('service'));
    assert.ok(p.size > 1, 'twelve services spread over more than one backend');
    const seen = new Map<string, string>();
    for (const [ep, spans] of p) {
      for (const s of spans) {
        assert.equal(seen.get(s.service) ?? ep, ep, `service ${s.service} on one backend`);
        seen.set(s.service, ep);
      }
    }
    assert.equal(seen.size, 12);
    // The same service in another batch, next to other attributes, goes to the same backend.
    const again = parts(request([{ attrs: [str('service.name', 'svc-3'), str('host.name', 'other')], spans: [{ trace: traces[9]! }] }]), new KeyHasher('service'));
    assert.deepEqual([...again.keys()], [seen.get('svc-3')]);
  });

  it('resource: the same resource always goes to the same backend; another resource of the service may not', () => {
    const res = (host: string) => [str('service.name', 'api'), str('host.name', host)];
    const hosts = Array.from({ length: 12 }, (_, i) => `host-${i}`);
    const owner = (host: string) => [...parts(request([{ attrs: res(host), spans: [{ trace: randomBytes(16) }, { trace: randomBytes(16) }] }]), new KeyHasher('resource')).keys()];
    for (const h of hosts) assert.deepEqual(owner(h), owner(h));
    assert.ok(new Set(hosts.map((h) => owner(h)[0])).size > 1, 'hosts spread over backends');
  });

  it('attributes: span attributes first, then resource attributes, route the span', () => {
    const tenants = Array.from({ length: 12 }, (_, i) => `tenant-${i}`);
    const data = request([
      { attrs: [str('service.name', 'a'), str('tenant', 'tenant-0')], spans: tenants.flatMap((t) => [{ trace: randomBytes(16), attrs: [str('tenant', t)] }]) },
      { attrs: [str('service.name', 'b'), str('tenant', 'tenant-5')], spans: [{ trace: randomBytes(16) }, { trace: randomBytes(16) }] },
    ]);
    const p = parts(data, new KeyHasher('attributes', ['tenant']));
    const byTenant = new Map<string, string>();
    for (const [ep, spans] of p) for (const s of spans) byTenant.set(s.attrs === '' ? `resource-${s.service}` : s.attrs, ep);
    // Spans without the attribute take the resource's value: service b's spans go with tenant-5.
    assert.equal(byTenant.get('resource-b'), byTenant.get('tenant-5'));
    assert.ok(new Set(byTenant.values()).size > 1);
  });

  it('spans without a trace ID all go to one backend', () => {
    const data = TracesData.fromProto(encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ spanId: randomBytes(8), name: 'x' }, { spanId: randomBytes(8), name: 'y' }] }] }] }));
    assert.equal(route(data, ring, new KeyHasher('traceID')).length, 1);
  });
});
