// Pipelines that share a receiver never see each other's changes: a pipeline whose processors
// change data gets its own copy, whichever processor comes first.
import assert from 'node:assert/strict';
import type { OtlpReceiver } from '../../../sidecar/receivers/otlp/receiver.ts';
import type { Service } from '../../../sidecar/service/service.ts';
import { encodeTraceRequest } from '../../../sidecar/pdata/otlp-schema.ts';
import { post } from '../../support/delivery.ts';
import { sinks, startService } from '../../support/sink.ts';

const CONFIG = `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
processors:
  tracecontext: { on_invalid: rewrite }
  batch: { timeout: 10ms }
exporters:
  sink/gateway: {}
  sink/legacy: {}
service:
  pipelines:
    traces/gateway: { receivers: [otlp], processors: [batch], exporters: [sink/gateway] }
    traces/legacy: { receivers: [otlp], processors: [tracecontext, batch], exporters: [sink/legacy] }
  telemetry: { metrics: { level: none } }
`;

describe('pipeline isolation', () => {
  let svc: Service | undefined;
  afterEach(async () => {
    await svc?.shutdown();
    svc = undefined;
  });

  it('a pipeline that rewrites trace IDs does not change what a read-only pipeline on the same receiver exports', async () => {
    svc = await startService(CONFIG);
    const port = (svc.receivers.get('otlp') as OtlpReceiver).http!.port;
    // A 64-bit B3 trace ID left-padded with zeros: not valid for legacy X-Ray, so `rewrite` changes it.
    const traceId = Buffer.from('0000000000000000a3ce929d0e0e4736', 'hex');
    const now = BigInt(Date.now()) * 1_000_000n;
    const body = Buffer.from(encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId, spanId: Buffer.alloc(8, 7), name: 'GET /', startTimeUnixNano: now, endTimeUnixNano: now + 1000n }] }] }] }));
    assert.equal((await post(port, '/v1/traces', body)).status, 200);
    const gateway = sinks.get('sink/gateway')!;
    const legacy = sinks.get('sink/legacy')!;
    await gateway.waitForSpans(1);
    await legacy.waitForSpans(1);
    assert.equal(Buffer.from(gateway.spans()[0]!.span.traceId!).toString('hex'), traceId.toString('hex'), 'the gateway pipeline exports the ID as received');
    assert.notEqual(Buffer.from(legacy.spans()[0]!.span.traceId!).toString('hex'), traceId.toString('hex'), 'the legacy pipeline rewrote it');
  });
});
