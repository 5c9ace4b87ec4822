// The probabilistic_sampler end to end. Two sidecar processes with the same config receive the
// same 20,000 spans with random trace IDs from one OpenTelemetry JS SDK (two batch span processors,
// one OTLP exporter each) and export to real OTLP/HTTP backends: they keep exactly the same trace
// IDs, about 10% of them, with the threshold written in tracestate. In-process: a stricter incoming
// threshold is never loosened, and a span whose flags say "not sampled" is not kept.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { decodeTraceRequest, encodeTraceRequest, type Span } from '../../../../sidecar/pdata/otlp-schema.ts';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import type { Service } from '../../../../sidecar/service/service.ts';
import { traceIdToHex } from '../../../../sidecar/tracecontext/index.ts';
import { freePort, HttpSink } from '../../../support/otlp-sinks.ts';
import { startProcess, type Running } from '../../../support/process.ts';
import { sinks, startService } from '../../../support/sink.ts';
import { testApp } from '../../../support/otel.ts';

const SPANS = 20_000;
const METRIC = 'tracebridge_probabilistic_sampler_spans_processed_total';

interface Sidecar {
  proc: Running;
  otlpPort: number;
  metricsPort: number;
}

async function startSidecar(processor: string, sink: HttpSink): Promise<Sidecar> {
  const otlpPort = await freePort();
  const metricsPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tb-sampler-'));
  const cfg = join(dir, 'sidecar.yaml');
  writeFileSync(
    cfg,
    `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${otlpPort} } } } }
processors:
  probabilistic_sampler: ${processor}
  batch: { timeout: 50ms }
exporters: { otlphttp: { endpoint: ${sink.url} } }
service:
  pipelines: { traces: { receivers: [otlp], processors: [probabilistic_sampler, batch], exporters: [otlphttp] } }
  telemetry: { metrics: { address: 127.0.0.1:${metricsPort} } }
`,
  );
  const proc = startProcess('sidecar/main.ts', ['--config', cfg]);
  await proc.waitFor(/OTLP HTTP receiver listening/);
  return { proc, otlpPort, metricsPort };
}

/** The sampler's counter in the sidecar's Prometheus exposition, by `sampled`. */
async function processed(metricsPort: number): Promise<{ kept: number; dropped: number }> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  let kept = 0;
  let dropped = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${METRIC}{`)) continue;
    const n = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.includes('sampled="true"')) kept += n;
    else dropped += n;
  }
  return { kept, dropped };
}

function received(sink: HttpSink): Span[] {
  return sink.received.flatMap((r) => (decodeTraceRequest(r.bytes).resourceSpans ?? []).flatMap((rs) => (rs.scopeSpans ?? []).flatMap((ss) => ss.spans ?? [])));
}

describe('probabilistic_sampler end to end: two sidecar processes', function () {
  this.timeout(120_000);
  const running: Sidecar[] = [];
  const backends: HttpSink[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) {
      s.proc.child.kill('SIGTERM');
      await s.proc.exited;
    }
    for (const b of backends.splice(0)) await b.stop();
  });

  for (const [mode, processor, threshold] of [
    ['hash_seed', '{ sampling_percentage: 10, hash_seed: 22 }', /^ot=rv:[0-9a-f]{14};th:e668$/],
    ['proportional', '{ sampling_percentage: 10, mode: proportional }', /^ot=th:e666$/],
  ] as const) {
    it(`${mode} at 10%: both keep exactly the same ${SPANS.toLocaleString('en')} random-ID traces' 10% ± 1%, threshold in tracestate`, async () => {
      const sinkA = await new HttpSink().start();
      const sinkB = await new HttpSink().start();
      backends.push(sinkA, sinkB);
      const a = await startSidecar(processor, sinkA);
      running.push(a);
      const b = await startSidecar(processor, sinkB);
      running.push(b);

      // One app, two exporters: every span goes to both sidecars.
      const exporter = (port: number) => new OTLPTraceExporter({ url: `http://127.0.0.1:${port}/v1/traces` });
      const batch = (port: number) => new BatchSpanProcessor({ exporter: exporter(port), maxQueueSize: SPANS, maxExportBatchSize: 1000, scheduledDelayMillis: 10 });
      const provider = new TracerProvider({
        resource: resourceFromAttributes({ 'service.name': 'checkout' }),
        spanProcessors: [batch(a.otlpPort), batch(b.otlpPort)],
      });
      const tracer = provider.getTracer('sampler-e2e');
      const sent = new Set<string>();
      for (let i = 0; i < SPANS; i++) {
        const span = tracer.startSpan(`op-${i}`);
        sent.add(span.spanContext().traceId);
        span.end();
      }
      await provider.forceFlush();
      await provider.shutdown();
      assert.equal(sent.size, SPANS);

      // Exports are answered after the sampler ran: its counters are final now.
      const countA = await processed(a.metricsPort);
      const countB = await processed(b.metricsPort);
      assert.equal(countA.kept + countA.dropped, SPANS);
      assert.deepEqual(countB, countA);
      await sinkA.waitUntil(() => sinkA.spansReceived() >= countA.kept, 20_000, `${countA.kept} spans at A`);
      await sinkB.waitUntil(() => sinkB.spansReceived() >= countB.kept, 20_000, `${countB.kept} spans at B`);

      const spansA = received(sinkA);
      const spansB = received(sinkB);
      const idsA = new Set(spansA.map((s) => traceIdToHex(s.traceId!)));
      const idsB = new Set(spansB.map((s) => traceIdToHex(s.traceId!)));
      assert.equal(idsA.size, countA.kept);
      assert.deepEqual([...idsA].sort(), [...idsB].sort(), 'the same traces kept by both processes');
      for (const id of idsA) assert.ok(sent.has(id));
      const share = idsA.size / SPANS;
      assert.ok(share >= 0.09 && share <= 0.11, `kept share ${share}`);
      for (const s of spansA) assert.match(s.traceState ?? '', threshold);
      // Same tracestate per trace in both processes (hash_seed writes the hash's randomness too).
      const stateB = new Map(spansB.map((s) => [traceIdToHex(s.traceId!), s.traceState]));
      for (const s of spansA) assert.equal(stateB.get(traceIdToHex(s.traceId!)), s.traceState);
    });
  }
});

describe('probabilistic_sampler through a running sidecar (in process)', () => {
  let svc: Service | undefined;
  afterEach(async () => {
    await svc?.shutdown();
    svc = undefined;
  });

  const config = (processor: string) => `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
processors:
  probabilistic_sampler: ${processor}
  batch: { timeout: 10ms }
exporters: { sink: {} }
service:
  pipelines: { traces: { receivers: [otlp], processors: [probabilistic_sampler, batch], exporters: [sink] } }
`;

  // Randomness (trace ID bytes 9..15) ff..ff passes every threshold; the parent said 1/16 (th:f).
  const TRACE_ID = '4bf92f3577b34da6a3ffffffffffffff';

  async function sendChildOf(port: number, traceState: string): Promise<void> {
    const app = testApp(new OTLPTraceExporter({ url: `http://127.0.0.1:${port}/v1/traces` }));
    const parent = trace.setSpanContext(context.active(), {
      traceId: TRACE_ID,
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: new TraceState(traceState),
    });
    app.tracer.startSpan('child', {}, parent).end();
    await app.flush();
    await app.provider.shutdown();
  }

  for (const [mode, expected] of [
    // equalizing at 10%: 1/16 is already stricter, kept as it is (other vendors too).
    ['equalizing', 'ot=th:f,rojo=00f067aa0ba902b7'],
    // proportional at 10%: 1/16 × 1/10 = 1/160, th:fe66; never back to 10% (e666).
    ['proportional', 'ot=th:fe66,rojo=00f067aa0ba902b7'],
  ] as const) {
    it(`${mode}: an incoming stricter th (SDK span, parent tracestate ot=th:f) is not loosened`, async () => {
      svc = await startService(config(`{ sampling_percentage: 10, mode: ${mode} }`));
      const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
      await sendChildOf(port, 'ot=th:f,rojo=00f067aa0ba902b7');
      const sink = sinks.get('sink')!;
      await sink.waitForSpans(1);
      const [span] = sink.spans().map((s) => s.span);
      assert.equal(traceIdToHex(span!.traceId!), TRACE_ID);
      assert.equal(span!.traceState, expected);
    });
  }

  it('a span whose flags say not sampled is dropped and counted; flags 0 (unknown) and sampled spans are decided', async () => {
    svc = await startService(config('{ sampling_percentage: 100, mode: proportional }'));
    const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
    const span = (name: string, flags: number | undefined, byte: number): Span => ({
      traceId: Buffer.from(TRACE_ID.slice(0, 30) + byte.toString(16).padStart(2, '0'), 'hex'),
      spanId: Buffer.alloc(8, byte),
      name,
      flags,
      startTimeUnixNano: 1n,
      endTimeUnixNano: 2n,
    });
    const body = encodeTraceRequest({
      resourceSpans: [{ scopeSpans: [{ spans: [span('not-sampled', 0x100, 1), span('sampled', 0x101, 2), span('no-flags', undefined, 3), span('remote-not-sampled', 0x300, 4)] }] }],
    });
    const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body: Buffer.from(body) });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const sink = sinks.get('sink')!;
    await sink.waitForSpans(2);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(sink.spans().map((s) => s.span.name).sort(), ['no-flags', 'sampled']);
    const text = svc.metrics.render();
    assert.match(text, new RegExp(`${METRIC}\\{pipeline="traces",policy="trace_flags",processor="probabilistic_sampler",sampled="false"\\} 2`));
    assert.match(text, new RegExp(`${METRIC}\\{pipeline="traces",policy="trace_id_w3c",processor="probabilistic_sampler",sampled="true"\\} 2`));
  });

  it('a kept span is byte-identical but for its tracestate; untouched spans are byte-identical', async () => {
    svc = await startService(config('{ sampling_percentage: 50, mode: equalizing }'));
    const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
    const mk = (name: string, traceState: string | undefined): Span => ({
      traceId: Buffer.from(TRACE_ID, 'hex'),
      spanId: Buffer.alloc(8, name.length),
      name,
      traceState,
      flags: 0x101,
      startTimeUnixNano: 5n,
      endTimeUnixNano: 6n,
      attributes: [{ key: 'k', value: { stringValue: 'v' } }],
    });
    const untouched = mk('untouched', 'ot=th:f');
    const edited = mk('edited-span', 'rojo=1');
    const body = encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [untouched, edited] }] }] });
    await (await fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body: Buffer.from(body) })).arrayBuffer();
    const sink = sinks.get('sink')!;
    await sink.waitForSpans(2);
    const out = Buffer.from(sink.batches[0]!.bytes);
    const encodedSpan = (s: Span) => Buffer.from(encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [s] }] }] })).subarray(6);
    assert.ok(out.includes(encodedSpan(untouched)), 'untouched span bytes present as sent');
    assert.ok(out.includes(encodedSpan({ ...edited, traceState: 'ot=th:8,rojo=1' })), 'edited span: only the tracestate differs');
  });

  it('refuses out-of-range settings at startup, naming the path', async () => {
    await assert.rejects(startService(config('{ sampling_percentage: -5 }')), /processors\.probabilistic_sampler\.sampling_percentage: expected a number >= 0, got -5/);
    await assert.rejects(startService(config('{ sampling_precision: 20 }')), /processors\.probabilistic_sampler\.sampling_precision: expected an integer between 1 and 14/);
  });
});
