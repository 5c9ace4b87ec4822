// Pipelines as the service builds them: fan-out copies only for mutating consumers, start and
// shutdown order, idempotent shutdown, health during a drain, partial success.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { TracesConsumer } from '../../../sidecar/component/component.ts';
import { PartialRejection } from '../../../sidecar/component/errors.ts';
import { fanoutTraces } from '../../../sidecar/component/fanout.ts';
import { TracesData } from '../../../sidecar/pdata/traces.ts';
import { encodeTraceRequest } from '../../../sidecar/pdata/otlp-schema.ts';
import type { OtlpReceiver } from '../../../sidecar/receivers/otlp/receiver.ts';
import type { HealthCheckExtension } from '../../../sidecar/extensions/health_check/extension.ts';
import { sinks, startService } from '../../support/sink.ts';

function data(): TracesData {
  return TracesData.fromProto(
    encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: Buffer.alloc(16, 7), spanId: Buffer.alloc(8, 1), name: 'a' }] }] }] }),
  );
}

function recorder(mutates: boolean): TracesConsumer & { got: TracesData[] } {
  const got: TracesData[] = [];
  return {
    got,
    mutatesData: mutates,
    consumeTraces(d) {
      got.push(d);
      if (mutates) d.bytes.fill(0); // a mutating consumer may scribble on what it owns
      return Promise.resolve();
    },
  };
}

describe('fan-out', () => {
  it('shares the data with read-only consumers and gives mutating ones their own copy', async () => {
    const ro1 = recorder(false);
    const ro2 = recorder(false);
    const mut = recorder(true);
    const d = data();
    const original = Buffer.from(d.bytes);
    await fanoutTraces([mut, ro1, ro2]).consumeTraces(d);
    assert.equal(ro1.got[0], d);
    assert.equal(ro2.got[0], d);
    assert.notEqual(mut.got[0], d);
    // Mutating consumers run first on their copy; the readers' data is untouched.
    assert.deepEqual(Buffer.from(ro1.got[0].bytes), original);
  });

  it('gives the original to the last mutating consumer when all mutate', async () => {
    const a = recorder(true);
    const b = recorder(true);
    const d = data();
    await fanoutTraces([a, b]).consumeTraces(d);
    assert.notEqual(a.got[0], d);
    assert.equal(b.got[0], d);
  });

  it('waits for every consumer and reports a failure', async () => {
    const ok = recorder(false);
    const failing: TracesConsumer = { consumeTraces: () => Promise.reject(new Error('down')) };
    await assert.rejects(fanoutTraces([failing, ok]).consumeTraces(data()), /down/);
    assert.equal(ok.got.length, 1);
  });
});

describe('service', () => {
  it('fans one receiver out to several pipelines and exporters', async () => {
    const svc = await startService(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
processors: { batch: { timeout: 5ms } }
exporters: { sink/a: {}, sink/b: {} }
service:
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [sink/a] }
    traces/copy: { receivers: [otlp], exporters: [sink/a, sink/b] }
  telemetry: { metrics: { level: none } }
`);
    try {
      const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
      const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body: Buffer.from(data().bytes) });
      assert.equal(res.status, 200);
      await sinks.get('sink/a')!.waitForSpans(2);
      await sinks.get('sink/b')!.waitForSpans(1);
    } finally {
      await svc.shutdown();
    }
  });

  it('answers partial_success when the pipeline refuses some spans', async () => {
    const svc = await startService(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters: { sink: {} }
service: { pipelines: { traces: { receivers: [otlp], exporters: [sink] } } , telemetry: { metrics: { level: none } } }
`);
    try {
      const sink = sinks.get('sink')!;
      sink.consumeTraces = () => Promise.reject(new PartialRejection(1, 'one span had no trace ID'));
      const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
      const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"resourceSpans":[]}' });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { partialSuccess: { rejectedSpans: '1', errorMessage: 'one span had no trace ID' } });
      const proto = await fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body: Buffer.from(data().bytes) });
      assert.equal(proto.status, 200);
      // ExportTraceServiceResponse.partial_success decoded with the schema's sibling type.
      const responseType = (await import('../../../sidecar/pdata/otlp-schema.ts')).exportTraceServiceResponseType();
      const msg = responseType.toObject(responseType.decode(Buffer.from(await proto.arrayBuffer())), { longs: Number });
      assert.deepEqual(msg, { partialSuccess: { rejectedSpans: 1, errorMessage: 'one span had no trace ID' } });
    } finally {
      await svc.shutdown();
    }
  });

  it('reports 503 on the health check while draining, flushes the batch, and shuts down once', async () => {
    const svc = await startService(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
processors: { batch: { timeout: 60s } }
exporters: { sink: {} }
extensions: { health_check: { endpoint: 127.0.0.1:0 } }
service:
  extensions: [health_check]
  pipelines: { traces: { receivers: [otlp], processors: [batch], exporters: [sink] } }
  telemetry: { metrics: { level: none } }
`);
    const health = svc.getExtension('health_check') as HealthCheckExtension;
    const get = () => new Promise<number>((resolve) => request({ host: '127.0.0.1', port: health.port, path: '/' }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).end());
    assert.equal(await get(), 200);
    const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
    await fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body: Buffer.from(data().bytes) });
    assert.equal(sinks.get('sink')!.spanCount(), 0, 'held by the batch processor (60s timeout)');
    svc.status = 'stopping';
    assert.equal(await get(), 503);
    svc.status = 'running';
    const first = svc.shutdown();
    const second = svc.shutdown();
    assert.equal(first, second);
    await first;
    assert.equal(sinks.get('sink')!.spanCount(), 1, 'flushed on shutdown');
    assert.equal(svc.status, 'stopped');
  });
});
