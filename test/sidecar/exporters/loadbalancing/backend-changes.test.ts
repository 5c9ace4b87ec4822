// The loadbalancing exporter while its backends change, in a running sidecar (OTLP receiver in,
// three real OTLP/gRPC sinks out, the dns resolver asking a local DNS stub): nothing is lost when
// a backend leaves mid-stream, and data for a backend that is down waits, retried, until the
// backend is back or the resolver drops it and the data is routed to the trace's new owner.
import assert from 'node:assert/strict';
import { HashRing } from '../../../../sidecar/exporters/loadbalancing/ring.ts';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import type { Service } from '../../../../sidecar/service/service.ts';
import { metricValue, withRealNetwork } from '../../../support/delivery.ts';
import { DnsStub } from '../../../support/dns-stub.ts';
import { encodeTraces, eventually, landing, makeTraces, missingSpans, TraceClient, type TestTrace } from '../../../support/lb-traffic.ts';
import { GrpcSink } from '../../../support/otlp-sinks.ts';
import { startService } from '../../../support/sink.ts';

const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];

function config(resolver: string): string {
  return `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
exporters:
  loadbalancing:
    protocol:
      otlp: { tls: { insecure: true }, timeout: 1s, compression: none }
    resolver:
${resolver}
    timeout: 2s
    retry_on_failure: { initial_interval: 50ms, max_interval: 200ms, max_elapsed_time: 60s }
    sending_queue: { num_consumers: 4, queue_size: 500 }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [loadbalancing] }
`;
}

describe('loadbalancing exporter while backends change (dns resolver, local DNS stub)', function () {
  this.timeout(60_000);
  withRealNetwork();
  let dns: DnsStub;
  let sinks: GrpcSink[];
  let port: number;
  let svc: Service | undefined;
  let client: TraceClient | undefined;

  const endpoint = (i: number) => `${HOSTS[i]}:${port}`;
  const metric = (name: string, labels: Record<string, string> = {}) => metricValue(svc!.metrics.render(), name, { exporter: 'loadbalancing', ...labels });

  beforeEach(async () => {
    dns = await new DnsStub().start();
    dns.addresses = [...HOSTS];
    // One port on three loopback addresses: the dns resolver gives every backend the same port.
    const first = await new GrpcSink().start(0, undefined, HOSTS[0]);
    port = first.port;
    sinks = [first, await new GrpcSink().start(port, undefined, HOSTS[1]), await new GrpcSink().start(port, undefined, HOSTS[2])];
    process.env.TRACEBRIDGE_TEST_DNS_SERVER = dns.server;
    svc = await startService(config(`      dns: { hostname: gateways.observability.test, port: ${port}, interval: 100ms, timeout: 500ms }`));
    client = new TraceClient((svc.receivers.get('otlp') as OtlpReceiver).grpc!.port);
  });

  afterEach(async () => {
    delete process.env.TRACEBRIDGE_TEST_DNS_SERVER;
    client?.close();
    await svc?.shutdown();
    svc = undefined;
    await Promise.all(sinks.map((s) => s.stop()));
    await dns.stop();
  });

  async function send(traces: readonly TestTrace[], perRequest: number): Promise<void> {
    for (let i = 0; i < traces.length; i += perRequest) await client!.send(encodeTraces(traces.slice(i, i + perRequest)));
  }

  /** Every trace complete (all its spans) on at least one sink. */
  function assertWholeTraces(traces: readonly TestTrace[]): void {
    const l = landing(sinks);
    for (const t of traces) {
      const at = l.traces.get(t.traceId);
      assert.ok(at !== undefined && [...at.values()].some((n) => n >= t.spanIds.length), `trace ${t.traceId} split: ${JSON.stringify([...(at ?? [])])}`);
    }
  }

  it('a backend leaving mid-stream (DNS drops it, the gateway stops): every span is delivered, traces stay whole', async () => {
    const traces = makeTraces(2000, 5);
    await send(traces.slice(0, 1000), 50);
    // Scale-down: the gateway pod is gone and its record leaves DNS at the same moment, while data
    // for it may be queued or in flight.
    dns.addresses = [HOSTS[0]!, HOSTS[2]!];
    await sinks[1]!.stop();
    await send(traces.slice(1000), 50);

    await eventually(() => missingSpans(traces, landing(sinks)) === 0, 30_000, () => `${missingSpans(traces, landing(sinks))} spans missing`);
    assertWholeTraces(traces);
    assert.equal(metric('otelcol_loadbalancer_num_backends', { resolver: 'dns' }), 2);
    assert.ok(metric('otelcol_loadbalancer_num_resolutions_total', { resolver: 'dns', success: 'true' }) >= 2);
    assert.equal(metric('otelcol_exporter_send_failed_spans_total'), 0);
    await eventually(() => metric('otelcol_exporter_sent_spans_total') === 10_000, 5000, () => `sent ${metric('otelcol_exporter_sent_spans_total')}`);
    // Traces sent after the change went only to the two remaining gateways.
    const l = landing(sinks);
    const ring = new HashRing([endpoint(0), endpoint(2)]);
    for (const t of traces.slice(1500)) {
      const owner = ring.endpointFor(Buffer.from(t.traceId, 'hex'));
      assert.equal(l.traces.get(t.traceId)?.get(HOSTS.findIndex((h) => owner === `${h}:${port}`)), 5, `trace ${t.traceId} at its owner ${owner}`);
    }
  });

  it('a backend down but still listed: its data is retried, then re-routed to the new owner once DNS drops it', async () => {
    await sinks[1]!.stop();
    const traces = makeTraces(300, 5);
    await send(traces, 30);

    const three = new HashRing([endpoint(0), endpoint(1), endpoint(2)]);
    const ownedByDown = traces.filter((t) => three.endpointFor(Buffer.from(t.traceId, 'hex')) === endpoint(1));
    const others = traces.filter((t) => !ownedByDown.includes(t));
    assert.ok(ownedByDown.length > 50, `${ownedByDown.length} traces owned by the stopped gateway`);
    // The live gateways get their traces; the stopped one's are retried, not dropped.
    await eventually(() => missingSpans(others, landing(sinks)) === 0, 20_000, () => `${missingSpans(others, landing(sinks))} spans of live gateways missing`);
    await eventually(() => metric('otelcol_loadbalancer_backend_outcome_total', { endpoint: endpoint(1), success: 'false' }) >= 3, 10_000, () => 'failed attempts at the down gateway');
    assert.equal(missingSpans(ownedByDown, landing(sinks)), ownedByDown.length * 5, 'not delivered anywhere while the owner is listed');
    assert.equal(metric('otelcol_exporter_send_failed_spans_total'), 0);

    dns.addresses = [HOSTS[0]!, HOSTS[2]!];
    await eventually(() => missingSpans(traces, landing(sinks)) === 0, 20_000, () => `${missingSpans(traces, landing(sinks))} spans missing`);
    const two = new HashRing([endpoint(0), endpoint(2)]);
    const l = landing(sinks);
    for (const t of ownedByDown) {
      const owner = HOSTS.findIndex((h) => `${h}:${port}` === two.endpointFor(Buffer.from(t.traceId, 'hex')));
      assert.equal(l.traces.get(t.traceId)?.get(owner), 5, `trace ${t.traceId} whole at its new owner`);
    }
    assert.equal(metric('otelcol_exporter_send_failed_spans_total'), 0);
    await eventually(() => metric('otelcol_exporter_sent_spans_total') === 1500, 5000, () => `sent ${metric('otelcol_exporter_sent_spans_total')}`);
    assert.ok(metric('tracebridge_loadbalancer_rerouted_spans_total') >= ownedByDown.length * 5);
  });

  it('a backend down and still listed that comes back gets its data (nothing re-routed)', async () => {
    await sinks[1]!.stop();
    const traces = makeTraces(200, 5);
    await send(traces, 20);
    await eventually(() => metric('otelcol_loadbalancer_backend_outcome_total', { endpoint: endpoint(1), success: 'false' }) >= 2, 10_000, () => 'failed attempts');
    await sinks[1]!.start(port, undefined, HOSTS[1]);
    await eventually(() => missingSpans(traces, landing(sinks)) === 0, 20_000, () => `${missingSpans(traces, landing(sinks))} spans missing`);
    const three = new HashRing([endpoint(0), endpoint(1), endpoint(2)]);
    const l = landing(sinks);
    for (const t of traces) {
      const owner = HOSTS.findIndex((h) => `${h}:${port}` === three.endpointFor(Buffer.from(t.traceId, 'hex')));
      assert.equal(l.traces.get(t.traceId)?.get(owner), 5);
    }
    assert.equal(metric('tracebridge_loadbalancer_rerouted_spans_total'), 0);
  });

  it('a DNS outage keeps the last known backends and data keeps flowing', async () => {
    await eventually(() => metric('otelcol_loadbalancer_num_resolutions_total', { resolver: 'dns', success: 'true' }) >= 1, 5000, () => 'first resolution');
    dns.failing = true;
    await eventually(() => metric('otelcol_loadbalancer_num_resolutions_total', { resolver: 'dns', success: 'false' }) >= 2, 5000, () => 'failed resolutions');
    const traces = makeTraces(100, 5);
    await send(traces, 25);
    await eventually(() => missingSpans(traces, landing(sinks)) === 0, 20_000, () => `${missingSpans(traces, landing(sinks))} spans missing`);
    assert.equal(metric('otelcol_loadbalancer_num_backends', { resolver: 'dns' }), 3);
    for (const s of sinks) assert.ok(s.spansReceived() > 0, 'all three gateways still used');
  });
});
