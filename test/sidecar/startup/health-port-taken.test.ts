// The sidecar started as the injector starts it, its health port already held by another process
// (a node-level collector in a hostNetwork pod, an earlier init sidecar): it keeps running and
// serving spans, says so, and takes the port as soon as it is free, so the kubelet's probe
// (which only knows that port) passes.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { startProcess } from '../../support/process.ts';
import { testApp } from '../../support/otel.ts';
import { HttpSink } from '../../support/otlp-sinks.ts';
import { freeSidecarPorts, injectedSidecarEnv } from '../../support/sidecar-env.ts';

const MAIN = 'sidecar/main.ts';

async function hold(port: number): Promise<Server> {
  const s = createServer((sock) => sock.destroy());
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, '0.0.0.0', resolve);
  });
  return s;
}

describe('sidecar start-up with its health port taken', () => {
  let sink: HttpSink;
  beforeEach(async () => {
    sink = await new HttpSink().start();
  });
  afterEach(() => sink.stop());

  it('keeps running and serving spans, logs the taken port, and answers the probe once the port is free', async () => {
    const ports = await freeSidecarPorts();
    let blocker: Server | undefined = await hold(ports.health);
    const proc = startProcess(MAIN, [], injectedSidecarEnv(ports, sink.url));
    try {
      await proc.waitFor(/tracebridge sidecar running/);
      assert.match(proc.stderr(), new RegExp(`"level":"error".*health check port ${ports.health}.*could not be bound`));

      const app = testApp(new OTLPTraceExporter({ url: `http://127.0.0.1:${ports.otlp_http}/v1/traces` }), 'checkout');
      app.tracer.startSpan('pay').end();
      await app.flush();
      await app.provider.shutdown();
      await sink.waitUntil(() => sink.spansReceived() >= 1, 8000, 'the span at the sink');

      const metrics = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
      assert.match(metrics, /^tracebridge_health_check_listening 0$/m);

      // The holder goes away: the sidecar takes the port and the probe passes.
      await new Promise<void>((r) => blocker!.close(() => r()));
      blocker = undefined;
      await proc.waitFor(/health check listening/, 10_000);
      const res = await fetch(`http://127.0.0.1:${ports.health}/`);
      assert.equal(res.status, 200);
      const after = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
      assert.match(after, /^tracebridge_health_check_listening 1$/m);
    } finally {
      if (blocker) blocker.close();
      proc.child.kill('SIGTERM');
    }
    assert.equal(await proc.exited, 0, proc.stderr());
  });

  it('shuts down promptly while still waiting for the port', async () => {
    const ports = await freeSidecarPorts();
    const blocker = await hold(ports.health);
    const proc = startProcess(MAIN, [], injectedSidecarEnv(ports, sink.url));
    try {
      await proc.waitFor(/tracebridge sidecar running/);
      proc.child.kill('SIGTERM');
      assert.equal(await proc.exited, 0, proc.stderr());
      assert.match(proc.stderr(), /shutdown complete/);
    } finally {
      blocker.close();
    }
  });
});
