// Three sidecar processes with the same static resolver config feed three OTLP/gRPC gateways. The
// spans of every trace are spread over the three sidecars (as the services of one request would
// send them), and each trace must still arrive whole at exactly one gateway: the sidecars agree on
// the owner without talking to each other.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricValue, withRealNetwork } from '../../../support/delivery.ts';
import { encodeTraces, eventually, landing, makeTraces, missingSpans, TraceClient, type TestTrace } from '../../../support/lb-traffic.ts';
import { freePort, GrpcSink } from '../../../support/otlp-sinks.ts';
import { startProcess, type Running } from '../../../support/process.ts';

const MAIN = 'sidecar/main.ts';
const dir = mkdtempSync(join(tmpdir(), 'tb-lb-'));

function sidecarConfig(grpcPort: number, metricsPort: number, gateways: readonly string[]): string {
  return `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${grpcPort} }
exporters:
  loadbalancing:
    routing_key: traceID
    protocol:
      otlp: { tls: { insecure: true }, timeout: 10s }
    resolver:
      static:
        hostnames: [${gateways.join(', ')}]
    retry_on_failure: { initial_interval: 100ms, max_interval: 1s }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [loadbalancing] }
  telemetry: { metrics: { address: 127.0.0.1:${metricsPort} } }
`;
}

describe('loadbalancing exporter in three sidecar processes (static resolver)', function () {
  this.timeout(180_000);
  withRealNetwork();
  const sinks: GrpcSink[] = [];
  const sidecars: { proc: Running; grpc: number; metrics: number }[] = [];

  before(async () => {
    for (let i = 0; i < 3; i++) sinks.push(await new GrpcSink().start());
    const gateways = sinks.map((s) => `127.0.0.1:${s.port}`);
    for (let i = 0; i < 3; i++) {
      const grpc = await freePort();
      const metrics = await freePort();
      const file = join(dir, `sidecar-${i}.yaml`);
      // The same gateway list, in a different order in each sidecar: the ring must not care.
      writeFileSync(file, sidecarConfig(grpc, metrics, [...gateways.slice(i), ...gateways.slice(0, i)]));
      sidecars.push({ proc: startProcess(MAIN, ['--config', file], { TRACEBRIDGE_CONFIG: undefined }), grpc, metrics });
    }
    await Promise.all(sidecars.map((s) => s.proc.waitFor(/tracebridge sidecar running/, 60_000)));
  });

  after(async () => {
    for (const s of sidecars) s.proc.child.kill('SIGTERM');
    const codes = await Promise.all(sidecars.map((s) => s.proc.exited));
    await Promise.all(sinks.map((s) => s.stop()));
    assert.deepEqual(codes, [0, 0, 0]);
  });

  it('10,000 traces x 5 spans, each trace spread over the 3 sidecars: every trace arrives whole at exactly one gateway', async () => {
    const traces = makeTraces(10_000, 5);
    const clients = sidecars.map((s) => new TraceClient(s.grpc));
    try {
      for (let b = 0; b < traces.length; b += 500) {
        const batch = traces.slice(b, b + 500);
        // Sidecar j gets spans j, j+3, ... of every trace.
        await Promise.all(
          clients.map((c, j) => c.send(encodeTraces(batch.map((t): TestTrace => ({ traceId: t.traceId, spanIds: t.spanIds.filter((_, i) => i % 3 === j) }))))),
        );
      }
    } finally {
      for (const c of clients) c.close();
    }

    await eventually(() => missingSpans(traces, landing(sinks)) === 0, 120_000, () => `${missingSpans(traces, landing(sinks))} of 50000 spans missing`);
    const l = landing(sinks);
    const perSink = [0, 0, 0];
    for (const t of traces) {
      const at = [...l.traces.get(t.traceId)!];
      assert.equal(at.length, 1, `trace ${t.traceId} reached gateways ${JSON.stringify(at)}`);
      assert.equal(at[0]![1], 5, `trace ${t.traceId}: ${at[0]![1]} spans (duplicates?)`);
      perSink[at[0]![0]]!++;
    }
    // Consistent hashing with 160 points per gateway spreads 10,000 traces within a few percent.
    for (const n of perSink) assert.ok(n > 2500 && n < 4200, `traces per gateway: ${perSink.join(', ')}`);

    for (const s of sidecars) {
      const text = await (await fetch(`http://127.0.0.1:${s.metrics}/metrics`)).text();
      assert.equal(metricValue(text, 'otelcol_loadbalancer_num_backends', { exporter: 'loadbalancing', resolver: 'static' }), 3);
      assert.equal(metricValue(text, 'otelcol_exporter_send_failed_spans_total', { exporter: 'loadbalancing' }), 0);
    }
  });
});
