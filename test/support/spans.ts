// Span batches of realistic size for delivery tests: an Envoy server span as Istio records it,
// ~1 KB encoded with 18 attributes (HTTP semantic conventions, Istio tags), distinct IDs.
import { randomBytes } from 'node:crypto';
import { encodeTraceRequest, type KeyValue, type Span } from '../../sidecar/pdata/otlp-schema.ts';

const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): KeyValue => ({ key, value: { intValue: v } });

function envoySpan(i: number, startNs: bigint): Span {
  const pod = `orders-v2-7d9c8b6f5-${(i % 97).toString(36).padStart(5, 'x')}`;
  return {
    traceId: randomBytes(16),
    spanId: randomBytes(8),
    parentSpanId: randomBytes(8),
    name: 'orders.shop.svc.cluster.local:8080/api/v1/orders/*',
    kind: 2,
    startTimeUnixNano: startNs,
    endTimeUnixNano: startNs + 12_345_678n,
    attributes: [
      str('http.request.method', 'GET'),
      str('url.full', `http://orders.shop.svc.cluster.local:8080/api/v1/orders/${100000 + i}?expand=items,customer,shipping,payment`),
      int('http.response.status_code', 200),
      str('user_agent.original', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36'),
      str('server.address', 'orders.shop.svc.cluster.local'),
      int('server.port', 8080),
      str('network.peer.address', `10.42.${i % 250}.${(i * 7) % 250}`),
      str('istio.canonical_service', 'orders'),
      str('istio.canonical_revision', 'v2'),
      str('istio.mesh_id', 'cluster.local'),
      str('istio.namespace', 'shop'),
      str('node_id', `sidecar~10.42.17.203~${pod}.shop~shop.svc.cluster.local`),
      str('guid:x-request-id', randomBytes(16).toString('hex')),
      str('upstream_cluster', 'inbound|8080||orders.shop.svc.cluster.local'),
      str('upstream_cluster.name', 'inbound|8080||'),
      str('response_flags', '-'),
      str('component', 'proxy'),
      str('downstream_cluster', 'frontend.shop.svc.cluster.local'),
    ],
  };
}

/** One OTLP request of `n` Envoy-like spans (~1 KB each), one resource and scope. */
export function envoyRequest(n: number, service = 'orders'): Buffer {
  const start = BigInt(Date.now()) * 1_000_000n;
  const spans = Array.from({ length: n }, (_, i) => envoySpan(i, start));
  const resource = { attributes: [str('service.name', service), str('k8s.namespace.name', 'shop'), str('k8s.pod.name', 'orders-v2-7d9c8b6f5-x2x9k')] };
  return Buffer.from(encodeTraceRequest({ resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'envoy' }, spans }] }] }));
}

/** An ExportTraceServiceRequest of `n` minimal spans named `<name>0`, `<name>1`, ... (one trace). */
export function tinySpans(n: number, name = 's'): Buffer {
  const spans: Span[] = Array.from({ length: n }, (_, i) => ({
    traceId: Buffer.alloc(16, 1),
    spanId: Buffer.alloc(8, i + 1),
    name: `${name}${i}`,
    startTimeUnixNano: 1n,
    endTimeUnixNano: 2n,
  }));
  return Buffer.from(encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans }] }] }));
}
