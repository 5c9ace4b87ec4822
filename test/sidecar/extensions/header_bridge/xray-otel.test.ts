// The migration case the bridge exists for, with the real SDKs on both sides:
// - an aws-xray-sdk-core instrumented server (its segment middleware and its http patch) calls,
//   through the bridge, a server instrumented with OpenTelemetry (W3C propagator + tracer):
//   the OTel server span continues the X-Ray trace, its parent being the X-Ray subsegment;
// - an OpenTelemetry client calls an X-Ray SDK server through the bridge: the segment the SDK
//   sends to its daemon continues the OTel trace.
// The X-Ray daemon is a UDP socket opened here; the segments the SDK sends to it are parsed.
// Both clients reach the bridge the way apps do once the injector sets HTTP_PROXY: Node's own
// proxy support (an http.Agent with `proxyEnv`, what NODE_USE_ENV_PROXY=1 gives the global agent).
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import http, { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, SpanKind, defaultTextMapGetter, defaultTextMapSetter, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import AWSXRay from 'aws-xray-sdk-core';
import { startBridge, type Bridge } from './support.ts';

interface XRaySegment {
  name: string;
  id: string;
  trace_id: string;
  parent_id?: string;
  subsegments?: { id: string; name: string; namespace?: string }[];
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const w3cToXRay = (traceId: string) => `1-${traceId.slice(0, 8)}-${traceId.slice(8)}`;

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function get(agent: http.Agent | false, port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ hostname: '127.0.0.1', port, path, headers, agent }, (res) => res.resume().on('end', () => resolve(res.statusCode!)))
      .on('error', reject);
  });
}

describe('header_bridge between the X-Ray SDK and OpenTelemetry', () => {
  let bridge: Bridge;
  let daemon: UdpSocket;
  let proxyAgent: http.Agent;
  const segments: XRaySegment[] = [];
  const waiters: (() => void)[] = [];
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('header-bridge-test');
  const w3c = new W3CTraceContextPropagator();
  const servers: Server[] = [];

  const derivedCount = () => {
    bridge.ext.syncMetrics();
    return bridge.metrics.counter('tracebridge_header_bridge_translations_total', '').get({ translation: 'derived' });
  };

  const nextSegment = (name: string): Promise<XRaySegment> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no X-Ray segment named ${name}`)), 5000);
      const check = () => {
        const s = segments.find((x) => x.name === name);
        if (s === undefined) return waiters.push(check);
        clearTimeout(timer);
        resolve(s);
      };
      check();
    });

  before(async () => {
    bridge = await startBridge();
    daemon = createSocket('udp4');
    daemon.on('message', (msg) => {
      // `{"format":"json","version":1}\n{segment}`
      const text = msg.toString('utf8');
      segments.push(JSON.parse(text.slice(text.indexOf('\n') + 1)) as XRaySegment);
      waiters.splice(0).forEach((w) => w());
    });
    await new Promise<void>((r) => daemon.bind(0, '127.0.0.1', r));
    AWSXRay.setLogger(silent);
    AWSXRay.setDaemonAddress(`127.0.0.1:${daemon.address().port}`);
    AWSXRay.enableManualMode();
    AWSXRay.middleware.disableCentralizedSampling();
    AWSXRay.middleware.setSamplingRules({ version: 2, default: { fixed_target: 0, rate: 1 }, rules: [] });
    proxyAgent = new http.Agent({ proxyEnv: { HTTP_PROXY: `http://${bridge.proxy.host}:${bridge.proxy.port}` } });
  });

  after(async () => {
    AWSXRay.enableAutomaticMode();
    proxyAgent.destroy();
    for (const s of servers) s.close();
    daemon.close();
    await provider.shutdown();
    await bridge.stop();
  });

  it('X-Ray SDK server → bridge → OpenTelemetry server: one trace, the OTel span parented by the X-Ray subsegment', async () => {
    const otelServer = createServer((req, res) => {
      const ctx = w3c.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
      tracer.startSpan('GET /inventory', { kind: SpanKind.SERVER }, ctx).end();
      res.end('ok');
    });
    servers.push(otelServer);
    const otelPort = await listen(otelServer);

    const xhttp = AWSXRay.captureHTTPs(http, true);
    const xrayServer = createServer((req, res) => {
      const segment = AWSXRay.middleware.traceRequestResponseCycle(req, res);
      const options = { hostname: '127.0.0.1', port: otelPort, path: '/inventory', agent: proxyAgent, XRaySegment: segment };
      xhttp.request(options, (r) => r.resume().on('end', () => res.end('done'))).end();
    });
    servers.push(xrayServer);
    const xrayPort = await listen(xrayServer);
    AWSXRay.middleware.setDefaultName('orders-xray');

    assert.equal(await get(false, xrayPort, '/order'), 200);
    const segment = await nextSegment('orders-xray');
    const span = exporter.getFinishedSpans().find((s) => s.name === 'GET /inventory')!;
    assert.ok(span, 'the OTel server recorded a span');
    assert.equal(w3cToXRay(span.spanContext().traceId), segment.trace_id, 'same trace ID on both sides');
    const sub = segment.subsegments?.find((s) => s.namespace === 'remote');
    assert.ok(sub, 'the X-Ray SDK recorded the outgoing call');
    assert.equal(span.parentSpanContext?.spanId, sub.id, 'the OTel span is the child of the X-Ray subsegment');
    assert.equal(span.parentSpanContext?.isRemote, true);
    assert.equal(derivedCount(), 1, 'the call went through the bridge, which derived traceparent');
  });

  it('OpenTelemetry client → bridge → X-Ray SDK server: the segment continues the OTel trace', async () => {
    const xrayServer = createServer((req, res) => {
      AWSXRay.middleware.traceRequestResponseCycle(req, res);
      res.end('ok');
    });
    servers.push(xrayServer);
    const xrayPort = await listen(xrayServer);
    AWSXRay.middleware.setDefaultName('payments-xray');

    const span = tracer.startSpan('POST /pay', { kind: SpanKind.CLIENT });
    const headers: Record<string, string> = {};
    w3c.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter);
    assert.deepEqual(Object.keys(headers), ['traceparent'], 'the caller speaks W3C only');
    assert.equal(await get(proxyAgent, xrayPort, '/pay', headers), 200);
    span.end();

    const segment = await nextSegment('payments-xray');
    assert.equal(segment.trace_id, w3cToXRay(span.spanContext().traceId));
    assert.equal(segment.parent_id, span.spanContext().spanId);
    assert.equal(derivedCount(), 2);
  });
});
