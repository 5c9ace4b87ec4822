// The tracecontext processor end to end: the OpenTelemetry JS SDK with random W3C IDs → sidecar
// (tracecontext → batch) → sink. Rewritten IDs are legacy-X-Ray-valid, one per trace, identical
// in a second sidecar process; keep mode leaves every byte alone; drop mode drops and counts.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { Service } from '../../../../sidecar/service/service.ts';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import { encodeTraceRequest, type Span } from '../../../../sidecar/pdata/otlp-schema.ts';
import { isXRayValidTraceId, rewrittenTraceId, traceIdToHex } from '../../../../sidecar/tracecontext/index.ts';
import { tracecontextProcessorFactory } from '../../../../sidecar/processors/tracecontext/factory.ts';
import type { ComponentRegistry } from '../../../../sidecar/service/components.ts';
import { sinks, startService, testRegistry } from '../../../support/sink.ts';
import { testApp } from '../../../support/otel.ts';
import { startProcess } from '../../../support/process.ts';

const registry: ComponentRegistry = {
  ...testRegistry,
  processor: new Map([...testRegistry.processor, ['tracecontext', tracecontextProcessorFactory]]),
};

function config(mode: string): string {
  return `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
processors:
  tracecontext: { on_invalid: ${mode} }
  batch: { timeout: 10ms }
exporters: { sink: {} }
service:
  pipelines: { traces: { receivers: [otlp], processors: [tracecontext, batch], exporters: [sink] } }
  telemetry: { metrics: { level: none } }
`;
}

function attr(span: Span, key: string): string | undefined {
  return span.attributes?.find((a) => a.key === key)?.value?.stringValue;
}

const seconds = (ns: unknown) => Number(BigInt(ns as bigint) / 1_000_000_000n);

async function post(port: number, body: Uint8Array): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body: Buffer.from(body) });
  await res.arrayBuffer();
  return res.status;
}

describe('tracecontext processor', () => {
  let svc: Service | undefined;
  afterEach(async () => {
    await svc?.shutdown();
    svc = undefined;
  });

  it('rewrite: SDK spans with random IDs arrive legacy-valid, one ID per trace, parents and original ID intact', async () => {
    svc = await startService(config('rewrite'), {}, registry);
    const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
    const app = testApp(new OTLPTraceExporter({ url: `http://127.0.0.1:${port}/v1/traces` }));
    const originals: string[] = [];
    for (let t = 0; t < 5; t++) {
      const root = app.tracer.startSpan(`root-${t}`);
      const ctx = trace.setSpan(context.active(), root);
      app.tracer.startSpan(`child-${t}-a`, {}, ctx).end();
      app.tracer.startSpan(`child-${t}-b`, {}, ctx).end();
      root.end();
      originals.push(root.spanContext().traceId);
    }
    await app.flush();
    await app.provider.shutdown();
    const sink = sinks.get('sink')!;
    await sink.waitForSpans(15);
    const spans = sink.spans().map((s) => s.span);
    for (const original of originals) {
      const ofTrace = spans.filter((s) => attr(s, 'tracebridge.original_trace_id') === original);
      assert.equal(ofTrace.length, 3, `three spans of trace ${original}`);
      const ids = new Set(ofTrace.map((s) => traceIdToHex(s.traceId!)));
      assert.equal(ids.size, 1, 'one rewritten ID per trace');
      const [id] = ids;
      assert.notEqual(id, original);
      assert.equal(id!.slice(8), original.slice(8), 'bytes 4-15 kept');
      for (const s of ofTrace) assert.ok(isXRayValidTraceId(s.traceId!, seconds(s.startTimeUnixNano)), 'legacy-valid relative to the span start');
      const root = ofTrace.find((s) => s.name!.startsWith('root'))!;
      for (const child of ofTrace.filter((s) => s !== root)) assert.deepEqual(child.parentSpanId, root.spanId);
    }
    const text = svc.metrics.render();
    assert.match(text, /tracebridge_tracecontext_rewritten_spans_total\{pipeline="traces",processor="tracecontext"\} 15/);
  });

  it('rewrite: a second sidecar process maps a later span of the same trace to the same ID', async () => {
    svc = await startService(config('rewrite'), {}, registry);
    const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
    const original = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
    const t0 = BigInt(Date.now() - 60_000) * 1_000_000n;
    const span = (name: string, start: bigint, spanByte: number): Span => ({
      traceId: original,
      spanId: Buffer.alloc(8, spanByte),
      name,
      startTimeUnixNano: start,
      endTimeUnixNano: start + 1_000_000n,
      links: [{ traceId: original, spanId: Buffer.alloc(8, 9) }, { traceId: Buffer.alloc(16, 0xab), spanId: Buffer.alloc(8, 9) }],
    });
    assert.equal(await post(port, encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [span('first', t0, 1)] }] }] })), 200);
    await sinks.get('sink')!.waitForSpans(1);
    const first = sinks.get('sink')!.spans()[0]!.span;
    // Links to the span's own original trace follow it; links to other traces do not.
    assert.deepEqual(first.links![0]!.traceId, first.traceId);
    assert.deepEqual(Buffer.from(first.links![1]!.traceId!), Buffer.alloc(16, 0xab));

    // The second sidecar: a separate process, printing spans with the debug exporter.
    const dir = mkdtempSync(join(tmpdir(), 'tb-tc-'));
    const cfg = join(dir, 'second.yaml');
    writeFileSync(
      cfg,
      `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
processors: { tracecontext: { on_invalid: rewrite } }
exporters: { debug: { verbosity: normal } }
service: { pipelines: { traces: { receivers: [otlp], processors: [tracecontext], exporters: [debug] } }, telemetry: { metrics: { level: none } } }
`,
    );
    const second = startProcess('sidecar/main.ts', ['--config', cfg]);
    try {
      const listening = await second.waitFor(/"msg":"OTLP HTTP receiver listening"/);
      void listening;
      const portLine = /"port":(\d+),"msg":"OTLP HTTP receiver listening"/.exec(second.stderr());
      const secondPort = Number(portLine![1]);
      const later = t0 + 5_000_000_000n; // 5 s later, same trace
      assert.equal(await post(secondPort, encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [span('later', later, 2)] }] }] })), 200);
      const line = await second.waitFor(/span service=\S+ name="later".*/);
      assert.match(line, new RegExp(`trace_id=${traceIdToHex(first.traceId!)}`));
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  it('rewrite: agrees with the library function for random IDs and start times (property over a batch)', async () => {
    svc = await startService(config('rewrite'), {}, registry);
    const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
    const now = Date.now();
    const spans: Span[] = Array.from({ length: 50 }, (_, i) => ({
      traceId: Buffer.from(Array.from({ length: 16 }, () => Math.floor(Math.random() * 256))),
      spanId: Buffer.alloc(8, i + 1),
      name: `s${i}`,
      startTimeUnixNano: BigInt(now - Math.floor(Math.random() * 40 * 86_400_000)) * 1_000_000n,
    }));
    assert.equal(await post(port, encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans }] }] })), 200);
    await sinks.get('sink')!.waitForSpans(50);
    const got = sinks.get('sink')!.spans().map((s) => s.span);
    for (const sent of spans) {
      const out = got.find((g) => g.name === sent.name)!;
      const expected = rewrittenTraceId(sent.traceId!, seconds(sent.startTimeUnixNano))!;
      assert.deepEqual(Buffer.from(out.traceId!), Buffer.from(expected));
      const changed = !Buffer.from(expected).equals(Buffer.from(sent.traceId!));
      assert.equal(attr(out, 'tracebridge.original_trace_id'), changed ? traceIdToHex(sent.traceId!) : undefined);
    }
  });

  it('keep (the default): every byte of the request passes unchanged', async () => {
    svc = await startService(config('keep'), {}, registry);
    const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
    const body = encodeTraceRequest({
      resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: Buffer.alloc(16, 0x42), spanId: Buffer.alloc(8, 1), name: 'old-id', startTimeUnixNano: 1n }] }] }],
    });
    assert.equal(await post(port, body), 200);
    await sinks.get('sink')!.waitForSpans(1);
    assert.deepEqual(Buffer.from(sinks.get('sink')!.batches[0]!.bytes), Buffer.from(body));
  });

  it('drop: drops spans legacy ingestion would reject, keeps valid ones, counts the drops', async () => {
    svc = await startService(config('drop'), {}, registry);
    const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const valid = Buffer.alloc(16, 7);
    valid.writeUInt32BE(Math.floor(Date.now() / 1000) - 60, 0);
    const body = encodeTraceRequest({
      resourceSpans: [
        { scopeSpans: [{ spans: [{ traceId: valid, spanId: Buffer.alloc(8, 1), name: 'valid', startTimeUnixNano: nowNs }] }] },
        { scopeSpans: [{ spans: [{ traceId: Buffer.alloc(16, 0x42), spanId: Buffer.alloc(8, 2), name: 'invalid', startTimeUnixNano: nowNs }] }] },
      ],
    });
    assert.equal(await post(port, body), 200);
    await sinks.get('sink')!.waitForSpans(1);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(sinks.get('sink')!.spans().map((s) => s.span.name), ['valid']);
    assert.match(svc.metrics.render(), /tracebridge_tracecontext_dropped_spans_total\{pipeline="traces",processor="tracecontext"\} 1/);
  });

  it('rejects a rewrite window the proof does not cover, naming the path', async () => {
    await assert.rejects(
      startService(config('rewrite').replace('on_invalid: rewrite', 'on_invalid: rewrite, rewrite_window: 700h'), {}, registry),
      /processors\.tracecontext\.rewrite_window: must be a whole number of seconds between 1s and 672h/,
    );
  });
});
