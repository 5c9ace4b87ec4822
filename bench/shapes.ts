// Span shapes the benchmark sends, pre-encoded once (the generator must not be the bottleneck).
// - testbed: the OpenTelemetry Collector testbed's shape: 100 spans per request, one resource,
//   kind CLIENT, 2 int attributes, 1 ms long.
// - realistic: an Envoy/SDK-like span of ~1 KB with 18 attributes (HTTP semantic conventions,
//   Istio tags), 20 spans per request from one resource.
import { randomBytes } from 'node:crypto';
import { encodeTraceRequest, type KeyValue, type Span } from '../sidecar/pdata/otlp-schema.ts';

export type ShapeName = 'testbed' | 'realistic';

export interface Shape {
  name: ShapeName;
  spansPerRequest: number;
  /** A few distinct encoded requests, cycled by the generator. */
  requests: Buffer[];
}

const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): KeyValue => ({ key, value: { intValue: v } });

function testbedSpan(i: number, now: bigint): Span {
  return {
    traceId: randomBytes(16),
    spanId: randomBytes(8),
    name: 'load-generator-span',
    kind: 3,
    startTimeUnixNano: now,
    endTimeUnixNano: now + 1_000_000n,
    attributes: [int('load_generator.span_seq_num', i), int('load_generator.trace_seq_num', i)],
  };
}

function realisticSpan(i: number, now: bigint): Span {
  return {
    traceId: randomBytes(16),
    spanId: randomBytes(8),
    parentSpanId: randomBytes(8),
    name: `GET /api/v1/orders/{id}`,
    kind: i % 2 === 0 ? 2 : 3,
    startTimeUnixNano: now,
    endTimeUnixNano: now + 12_345_678n,
    attributes: [
      str('http.request.method', 'GET'),
      str('url.full', `http://orders.shop.svc.cluster.local:8080/api/v1/orders/${100000 + i}?expand=items,customer`),
      int('http.response.status_code', 200),
      str('user_agent.original', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'),
      str('server.address', 'orders.shop.svc.cluster.local'),
      int('server.port', 8080),
      str('network.peer.address', '10.42.17.203'),
      str('istio.canonical_service', 'orders'),
      str('istio.canonical_revision', 'v2'),
      str('istio.mesh_id', 'cluster.local'),
      str('istio.namespace', 'shop'),
      str('node_id', 'sidecar~10.42.17.203~orders-v2-7d9c8b6f5-x2x9k.shop~shop.svc.cluster.local'),
      str('guid:x-request-id', '6c1c6f0e-3f5b-4b8f-9f7a-2f1d7d9e3c11'),
      str('upstream_cluster', 'outbound|8080||orders.shop.svc.cluster.local'),
      str('response_flags', '-'),
      str('component', 'proxy'),
      int('request_size', 0),
      int('response_size', 1843),
    ],
  };
}

export function makeShape(name: ShapeName, variants = 8): Shape {
  const spansPerRequest = name === 'testbed' ? 100 : 20;
  const now = BigInt(Date.now()) * 1_000_000n;
  const requests: Buffer[] = [];
  for (let v = 0; v < variants; v++) {
    const spans = Array.from({ length: spansPerRequest }, (_, i) => (name === 'testbed' ? testbedSpan(i, now) : realisticSpan(i, now)));
    const resource = {
      attributes: [str('service.name', name === 'testbed' ? 'load-generator' : 'orders'), str('k8s.namespace.name', 'shop'), str('k8s.pod.name', 'orders-v2-7d9c8b6f5-x2x9k')],
    };
    requests.push(Buffer.from(encodeTraceRequest({ resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'bench' }, spans }] }] })));
  }
  return { name, spansPerRequest, requests };
}

/** Envoy-style Zipkin v2 JSON: 20 spans per POST, 128-bit IDs, Istio tags (~1 KB per span). */
export function makeZipkinShape(variants = 8): Shape {
  const hex = (n: number) => randomBytes(n).toString('hex');
  const nowUs = Date.now() * 1000;
  const requests: Buffer[] = [];
  for (let v = 0; v < variants; v++) {
    const spans = Array.from({ length: 20 }, (_, i) => ({
      traceId: hex(16),
      id: hex(8),
      parentId: hex(8),
      kind: i % 2 === 0 ? 'SERVER' : 'CLIENT',
      name: 'orders.shop.svc.cluster.local:8080/api/v1/orders/*',
      timestamp: nowUs,
      duration: 12345,
      shared: i % 2 === 0,
      localEndpoint: { serviceName: 'orders.shop', ipv4: '10.42.17.203' },
      remoteEndpoint: { serviceName: 'payments.shop', ipv4: '10.42.9.12', port: 8080 },
      tags: {
        'http.method': 'GET',
        'http.url': `http://orders.shop.svc.cluster.local:8080/api/v1/orders/${100000 + i}?expand=items,customer`,
        'http.status_code': '200',
        'http.protocol': 'HTTP/1.1',
        user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
        'istio.canonical_service': 'orders',
        'istio.canonical_revision': 'v2',
        'istio.mesh_id': 'cluster.local',
        'istio.namespace': 'shop',
        node_id: 'sidecar~10.42.17.203~orders-v2-7d9c8b6f5-x2x9k.shop~shop.svc.cluster.local',
        'guid:x-request-id': '6c1c6f0e-3f5b-4b8f-9f7a-2f1d7d9e3c11',
        upstream_cluster: 'outbound|8080||payments.shop.svc.cluster.local',
        'upstream_cluster.name': 'outbound|8080||payments.shop.svc.cluster.local',
        response_flags: '-',
        response_size: '1843',
        request_size: '0',
        component: 'proxy',
      },
    }));
    requests.push(Buffer.from(JSON.stringify(spans)));
  }
  return { name: 'realistic', spansPerRequest: 20, requests };
}

/** X-Ray SDK-style UDP datagrams: a segment with two embedded subsegments (3 spans) each. */
export function makeXRayShape(variants = 8): Shape {
  const hex = (n: number) => randomBytes(n).toString('hex');
  const now = Date.now() / 1000;
  const requests: Buffer[] = [];
  for (let v = 0; v < variants; v++) {
    const segment = {
      name: 'orders',
      id: hex(8),
      trace_id: `1-${Math.floor(now).toString(16)}-${hex(12)}`,
      start_time: now,
      end_time: now + 0.012,
      origin: 'AWS::EKS::Container',
      http: { request: { method: 'GET', url: 'http://orders.shop/api/v1/orders/123', client_ip: '10.42.9.12', user_agent: 'curl/8.5.0' }, response: { status: 200, content_length: 1843 } },
      annotations: { tenant: 'acme', order_id: 123 },
      metadata: { default: { debug: { cart: ['a', 'b'] } } },
      subsegments: [
        { name: 'DynamoDB', id: hex(8), start_time: now + 0.001, end_time: now + 0.004, namespace: 'aws', aws: { operation: 'GetItem', region: 'us-east-1', table_name: 'orders', request_id: 'R1' }, http: { response: { status: 200 } } },
        { name: 'payments.shop', id: hex(8), start_time: now + 0.005, end_time: now + 0.011, namespace: 'remote', http: { request: { method: 'POST', url: 'http://payments.shop/charge' }, response: { status: 201 } } },
      ],
    };
    requests.push(Buffer.from(`{"format":"json","version":1}\n${JSON.stringify(segment)}`));
  }
  return { name: 'realistic', spansPerRequest: 3, requests };
}
