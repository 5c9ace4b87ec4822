import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { memoryLimiterConfig } from '../../../../sidecar/processors/memory_limiter/config.ts';
import { availableMemory, computeLimits, parseCgroupLimit } from '../../../../sidecar/processors/memory_limiter/memory.ts';
import { MemoryLimiterProcessor } from '../../../../sidecar/processors/memory_limiter/processor.ts';
import { RetryableError } from '../../../../sidecar/component/errors.ts';
import { ConfigErrors } from '../../../../sidecar/config/schema.ts';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import type { Service } from '../../../../sidecar/service/service.ts';
import { MetricsRegistry } from '../../../../sidecar/telemetry/metrics.ts';
import { deliveryRegistry, EXPORT_PATH, grpcExport, metricValue, post, traceRequest, withRealNetwork } from '../../../support/delivery.ts';
import { SinkExporter, silentLogger, sinks, startService } from '../../../support/sink.ts';

const MIB = 1024 * 1024;

function pipeline(limiter: string): string {
  return `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }
processors:
  memory_limiter: ${limiter}
exporters:
  sink: {}
service:
  pipelines:
    traces: { receivers: [otlp], processors: [memory_limiter], exporters: [sink] }
  telemetry: { metrics: { level: none } }
`;
}

describe('memory_limiter processor', () => {
  withRealNetwork();
  let svc: Service | undefined;
  afterEach(async () => {
    await svc?.shutdown();
    svc = undefined;
  });

  it('refuses data above the soft limit: receivers answer 503 with Retry-After and UNAVAILABLE, and the spans are counted', async () => {
    // The process uses far more than 2 MiB, so the limiter is above its soft limit from the first check.
    svc = await startService(pipeline('{ check_interval: 50ms, limit_mib: 2, spike_limit_mib: 1 }'), {}, deliveryRegistry);
    const r = svc.receivers.get('otlp') as OtlpReceiver;
    const res = await post(r.http!.port, '/v1/traces', traceRequest(3));
    assert.equal(res.status, 503);
    assert.ok(Number(res.headers['retry-after']) >= 1);
    const viaGrpc = await grpcExport(r.grpc!.port, EXPORT_PATH.traces, traceRequest(2));
    assert.ok(!Buffer.isBuffer(viaGrpc) && viaGrpc.code === grpc.status.UNAVAILABLE, String(viaGrpc));
    assert.equal(sinks.get('sink')!.spanCount(), 0);
    const refused = metricValue(svc.metrics.render(), 'otelcol_processor_refused_spans_total', { pipeline: 'traces', processor: 'memory_limiter' });
    assert.equal(refused, 5);
  });

  it('lets data through below the soft limit', async () => {
    svc = await startService(pipeline('{ check_interval: 1s, limit_mib: 1000000 }'), {}, deliveryRegistry);
    const r = svc.receivers.get('otlp') as OtlpReceiver;
    assert.equal((await post(r.http!.port, '/v1/traces', traceRequest(3))).status, 200);
    assert.equal(sinks.get('sink')!.spanCount(), 3);
  });

  it('accepts again once memory falls below the soft limit', async () => {
    let usage = 900 * MIB;
    const sink = new SinkExporter();
    const cfg = { ...memoryLimiterConfig.defaultValue, check_interval: 1000, limit_mib: 1000 };
    const p = new MemoryLimiterProcessor({ id: 'memory_limiter', kind: 'processor', logger: silentLogger, metrics: new MetricsRegistry() }, cfg, sink, computeLimits(cfg, 0), () => usage);
    await p.start();
    await p.shutdown();
    await assert.rejects(p.consumeTraces(TracesData.fromProto(traceRequest(1))), RetryableError, 'soft limit is 800 MiB');
    usage = 700 * MIB;
    p.check();
    await p.consumeTraces(TracesData.fromProto(traceRequest(1)));
    assert.equal(sink.spanCount(), 1);
  });

  it('computes limits as the collector does (spike defaults to 20% of the limit)', () => {
    const base = memoryLimiterConfig.defaultValue;
    assert.deepEqual(computeLimits({ ...base, limit_mib: 100 }, 0), { hard: 100 * MIB, soft: 80 * MIB });
    assert.deepEqual(computeLimits({ ...base, limit_mib: 100, spike_limit_mib: 10 }, 0), { hard: 100 * MIB, soft: 90 * MIB });
    assert.deepEqual(computeLimits({ ...base, limit_percentage: 80, spike_limit_percentage: 20 }, 1000 * MIB), { hard: 800 * MIB, soft: 600 * MIB });
  });

  it('reads the container limit from cgroup files, ignoring "max" and v1 "unlimited"', () => {
    const total = 16 * 1024 * MIB;
    assert.equal(parseCgroupLimit('201326592\n', total), 192 * MIB);
    assert.equal(parseCgroupLimit('max\n', total), undefined);
    assert.equal(parseCgroupLimit('9223372036854771712\n', total), undefined);
    assert.equal(availableMemory({ root: '/nonexistent', procSelfCgroup: '/nonexistent' }).source, 'total');
  });

  it('validates its config with YAML paths', () => {
    const errors = new ConfigErrors();
    memoryLimiterConfig.decode({ limit_mib: 100, spike_limit_mib: 200 }, 'processors.memory_limiter', errors);
    assert.deepEqual(errors.list(), [
      'processors.memory_limiter.check_interval: required: a duration > 0, e.g. 1s',
      'processors.memory_limiter.spike_limit_mib: must be less than limit_mib',
    ]);
    const none = new ConfigErrors();
    memoryLimiterConfig.decode({ check_interval: '1s' }, 'processors.memory_limiter', none);
    assert.deepEqual(none.list(), ['processors.memory_limiter: set limit_mib or limit_percentage']);
  });
});
