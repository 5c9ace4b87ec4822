// The debug exporter (what `npm start` runs) is not taken down by anything: a batch that does not
// decode (here built past validation with TracesData.trusted, as a buggy processor could) gets its
// summary line, is counted and warned about once, and fails as a rejected promise, never as a
// throw out of the batch processor's timer. And the sidecar started as `npm start` starts it
// refuses malformed requests and keeps printing other clients' spans.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { CreateSettings } from '../../../../sidecar/component/component.ts';
import { PermanentError } from '../../../../sidecar/component/errors.ts';
import { embeddedDefault } from '../../../../sidecar/config/embedded-default.ts';
import { DebugExporter } from '../../../../sidecar/exporters/debug/exporter.ts';
import { debugExporterConfig } from '../../../../sidecar/exporters/debug/config.ts';
import { TRACE_EXPORT } from '../../../../sidecar/pdata/otlp-grpc-paths.ts';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';
import { batchProcessorConfig } from '../../../../sidecar/processors/batch/config.ts';
import { BatchProcessor } from '../../../../sidecar/processors/batch/processor.ts';
import { components } from '../../../../sidecar/service/components.ts';
import { createLogger } from '../../../../sidecar/telemetry/logger.ts';
import { MetricsRegistry } from '../../../../sidecar/telemetry/metrics.ts';
import { startProcess } from '../../../support/process.ts';
import { testApp } from '../../../support/otel.ts';
import { kv, len, spanPayload, traceRequest } from '../../pdata/framing.ts';

/** Frames to the span, but an attribute value is not protobuf: protobufjs throws "index out of range". */
const UNDECODABLE = traceRequest({ spans: [spanPayload(len(9, kv('k', Buffer.from([0x0a, 0x05, 0x61]))))] });

function setup(verbosity: 'normal' | 'detailed' = 'normal') {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const metrics = new MetricsRegistry();
  const settings: CreateSettings = { id: 'debug', kind: 'exporter', logger: createLogger('info', sink), metrics };
  const out: string[] = [];
  const exporter = new DebugExporter(settings, { ...debugExporterConfig.defaultValue, verbosity, sampling_initial: 100 }, (t) => out.push(t));
  return { exporter, logs, metrics, out, settings };
}

describe('debug exporter', () => {
  it('rejects (never throws) for a batch that does not decode; prints its summary, counts it and warns once', async () => {
    const { exporter, logs, metrics, out } = setup();
    const bad = TracesData.trusted(UNDECODABLE, 1);
    let p: Promise<void> | undefined;
    assert.doesNotThrow(() => (p = exporter.consumeTraces(bad)));
    await assert.rejects(p!, PermanentError);
    await assert.rejects(exporter.consumeTraces(TracesData.trusted(UNDECODABLE, 1)), /does not decode/);
    assert.deepEqual(out, [`traces batch spans=1 bytes=${UNDECODABLE.length}\n`, `traces batch spans=1 bytes=${UNDECODABLE.length}\n`]);
    assert.match(metrics.render(), /otelcol_exporter_send_failed_spans_total\{exporter="debug"\} 2/);
    assert.equal(logs.filter((l) => l.level === 'warn').length, 1, 'one warning per episode');
    // A good batch ends the episode.
    await exporter.consumeTraces(TracesData.fromProto(traceRequest()));
    assert.match(out.at(-1)!, /^span service=checkout name="GET \/orders"/);
  });

  it('under a batch processor, an undecodable batch flushed by the timer is counted, not thrown from the timer', async () => {
    const { exporter, metrics, settings } = setup('detailed');
    const batch = new BatchProcessor({ ...settings, id: 'batch', kind: 'processor', pipeline: 'traces' }, { ...batchProcessorConfig.defaultValue, timeout: 10 }, exporter);
    await batch.consumeTraces(TracesData.trusted(UNDECODABLE, 1));
    await batch.consumeTraces(TracesData.fromProto(traceRequest()));
    await new Promise((r) => setTimeout(r, 50)); // an uncaught exception here would fail the test
    await batch.shutdown();
    assert.match(metrics.render(), /otelcol_exporter_send_failed_spans_total\{exporter="debug"\} 2/);
  });

  it('`npm start` (embedded default, debug exporter): malformed requests get 400 / INVALID_ARGUMENT and the process keeps printing spans', async function () {
    this.timeout(30_000);
    // The embedded default as `npm start` runs it, with its receivers and endpoints on free ports.
    const avail = {
      receiver: new Set(components.receiver.keys()),
      processor: new Set(components.processor.keys()),
      exporter: new Set(components.exporter.keys()),
      extension: new Set(components.extension.keys()),
    };
    const { config } = embeddedDefault({}, avail);
    const c = config as { receivers: Record<string, unknown>; extensions: Record<string, unknown>; service: { pipelines: { traces: { receivers: string[] } }; telemetry: Record<string, unknown> } };
    assert.ok('debug' in (config.exporters as Record<string, unknown>));
    c.receivers = { otlp: { protocols: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } } } };
    c.service.pipelines.traces.receivers = ['otlp'];
    c.extensions = { health_check: { endpoint: '127.0.0.1:0' } };
    c.service.telemetry = { ...c.service.telemetry, metrics: { level: 'none' } };
    const file = join(mkdtempSync(join(tmpdir(), 'tb-debug-')), 'npm-start.yaml');
    writeFileSync(file, JSON.stringify(config));

    const proc = startProcess('sidecar/main.ts', ['--config', file]);
    try {
      const port = (what: string) => proc.waitFor(new RegExp(`"port":\\d+,"msg":"OTLP ${what} receiver listening"`)).then((l) => Number(/"port":(\d+)/.exec(l)![1]));
      const [httpPort, grpcPort] = await Promise.all([port('HTTP'), port('gRPC')]);
      const res = await fetch(`http://127.0.0.1:${httpPort}/v1/traces`, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body: UNDECODABLE });
      assert.equal(res.status, 400);
      assert.match(Buffer.from(await res.arrayBuffer()).toString(), /attributes\[1\]\.value: length 5 runs past the end of the message/);
      const client = new grpc.Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
      const raw = (b: Buffer) => b;
      const err = await new Promise<grpc.ServiceError | null>((resolve) => client.makeUnaryRequest(TRACE_EXPORT, raw, raw, UNDECODABLE, (e) => resolve(e)));
      client.close();
      assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);

      // Past the batch window, another client's span is printed: the process is alive and well.
      await new Promise((r) => setTimeout(r, 400));
      const app = testApp(new OTLPTraceExporter({ url: `http://127.0.0.1:${httpPort}/v1/traces` }), 'hello-app');
      const span = app.tracer.startSpan('still here');
      span.end();
      await app.flush();
      await app.provider.shutdown();
      await proc.waitFor(new RegExp(`span service=hello-app name="still here".*trace_id=${span.spanContext().traceId}`));
      assert.equal(proc.child.exitCode, null);
    } finally {
      proc.child.kill('SIGTERM');
    }
    assert.equal(await proc.exited, 0, proc.stderr());
  });
});
