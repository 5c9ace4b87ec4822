import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { memoryLimiterConfig, type MemoryLimiterConfig } from '../../../../sidecar/processors/memory_limiter/config.ts';
import type { TracesConsumer } from '../../../../sidecar/component/component.ts';
import { availableMemory, collectGarbage, computeLimits, forcedGcUnavailable, parseCgroupLimit, privateMemoryMeasure, type AvailableMemory, type Limits } from '../../../../sidecar/processors/memory_limiter/memory.ts';
import { createLogger } from '../../../../sidecar/telemetry/logger.ts';
import { parseResidentMemory, residentMemory } from '../../../../sidecar/runtime/resident-memory.ts';
import { MemoryLimiterProcessor } from '../../../../sidecar/processors/memory_limiter/processor.ts';
import { RetryableError } from '../../../../sidecar/component/errors.ts';
import { ConfigErrors } from '../../../../sidecar/config/schema.ts';
import { TracesData } from '../../../../sidecar/pdata/traces.ts';
import { BoundedQueue } from '../../../../sidecar/exporters/internal/queue.ts';
import { releasedMemory, type ReleasedMemory } from '../../../../sidecar/runtime/released-memory.ts';
import type { OtlpReceiver } from '../../../../sidecar/receivers/otlp/receiver.ts';
import type { Service } from '../../../../sidecar/service/service.ts';
import { MetricsRegistry } from '../../../../sidecar/telemetry/metrics.ts';
import { deliveryRegistry, EXPORT_PATH, grpcExport, metricValue, post, traceRequest, withRealNetwork } from '../../../support/delivery.ts';
import { freePort, HttpSink } from '../../../support/otlp-sinks.ts';
import { startProcess, type Running } from '../../../support/process.ts';
import { SinkExporter, sinks, startService } from '../../../support/sink.ts';

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

/** Starts the sidecar as `npm start` runs it: an OTLP/HTTP receiver, this memory_limiter, one exporter. */
async function startSidecar(limiter: string, exporter: string, exporterConfig: string, nodeArgs: string[] = []): Promise<{ p: Running; port: number }> {
  const port = await freePort();
  const cfg = join(mkdtempSync(join(tmpdir(), 'tb-limiter-')), 'c.yaml');
  writeFileSync(
    cfg,
    `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:${port} } } } }
processors:
  memory_limiter: ${limiter}
exporters:
  ${exporter}: ${exporterConfig}
service:
  pipelines: { traces: { receivers: [otlp], processors: [memory_limiter], exporters: [${exporter}] } }
  telemetry: { metrics: { level: none } }
`,
  );
  return { p: startProcess('sidecar/main.ts', ['--config', cfg], {}, nodeArgs), port };
}

/** A memory_limiter on a measure the test controls (private memory, nothing reserved unless said); its log lines are kept. */
function limiter(
  cfg: MemoryLimiterConfig,
  read: () => number,
  opts: { next?: TracesConsumer; collectGarbage?: () => void; limits?: Limits; reserved?: number; available?: AvailableMemory; metrics?: MetricsRegistry; released?: ReleasedMemory } = {},
): { p: MemoryLimiterProcessor; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }));
  const settings = { id: 'memory_limiter', kind: 'processor' as const, logger, metrics: opts.metrics ?? new MetricsRegistry() };
  const measure = { name: 'private' as const, reserved: opts.reserved ?? 0, read };
  const p = new MemoryLimiterProcessor(settings, cfg, opts.next ?? new SinkExporter(), opts.limits ?? computeLimits(cfg, 0), measure, opts.collectGarbage ?? (() => undefined), opts.released ?? NOTHING_RELEASED, opts.available);
  return { p, lines };
}

/** Sending queues that never let go of anything: collections by the intervals alone. */
const NOTHING_RELEASED: ReleasedMemory = { sinceCollection: () => 0, held: () => 0, collected: () => undefined };

/** Lets a forced collection's measure (GC_SETTLE_MS later) run. */
const settle = () => new Promise((r) => setTimeout(r, 80));

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

  it("measures the sidecar's own memory, not the node binary's pages mapped into it: a sidecar whose RSS is above the soft limit but whose private memory is far below it accepts and delivers", async function () {
    // In a pod, RSS counts ~50 MiB of file-backed pages (the node binary, shared by every pod of the
    // image on a node, and reclaimable before the OOM killer acts). Compared with RSS, a 192 MiB
    // container's 115 MiB soft limit refused data while the sidecar held ~65 MiB of its own.
    this.timeout(30_000);
    const sink = await new HttpSink().start();
    const softMiB = 70;
    const { p, port } = await startSidecar(`{ check_interval: 100ms, limit_mib: ${softMiB + 10}, spike_limit_mib: 10 }`, 'otlphttp', `{ endpoint: ${sink.url} }`);
    try {
      await p.waitFor(/tracebridge sidecar running/, 20_000);
      await new Promise((r) => setTimeout(r, 300));
      // The premise, checked so that this test cannot pass vacuously: RSS is above the soft limit,
      // the process's anonymous pages are well below it.
      const resident = residentMemory(p.child.pid!)!;
      assert.ok(resident.total >= (softMiB + 5) * MIB, `premise: RSS ${resident.total} bytes is above the soft limit`);
      assert.ok(resident.private <= (softMiB - 10) * MIB, `premise: private memory ${resident.private} bytes is below the soft limit`);
      const res = await post(port, '/v1/traces', traceRequest(3));
      assert.equal(res.status, 200, `answered ${res.status}: ${res.body.toString()}\n${p.stdout()}`);
      await sink.waitUntil(() => sink.spansReceived() === 3, 10_000, 'the 3 spans delivered');
      assert.doesNotMatch(p.stdout() + p.stderr(), /memory above the soft limit/);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
      await sink.stop();
    }
  });

  it('with V8 flags frozen (--freeze-flags-after-init), where turning --expose-gc on would abort the process, the sidecar says it cannot force collections and keeps refusing and answering', async function () {
    this.timeout(30_000);
    // A soft limit far below what the sidecar holds idle: above it from the first check, when a
    // collection is due at once.
    const { p, port } = await startSidecar('{ check_interval: 100ms, limit_mib: 10, spike_limit_mib: 2 }', 'debug', '{}', ['--freeze-flags-after-init']);
    try {
      await p.waitFor(/tracebridge sidecar running/, 20_000);
      assert.match(p.stdout() + p.stderr(), /memory_limiter cannot force garbage collections/);
      await new Promise((r) => setTimeout(r, 300));
      const res = await post(port, '/v1/traces', traceRequest(3));
      assert.equal(res.status, 503);
      assert.equal(p.child.exitCode, null, `the sidecar exited:\n${p.stderr()}`);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });

  it('accepts again once memory falls below the soft limit', async () => {
    let usage = 900 * MIB;
    const sink = new SinkExporter();
    const cfg = { ...memoryLimiterConfig.defaultValue, check_interval: 1000, limit_mib: 1000 };
    const { p } = limiter(cfg, () => usage, { next: sink });
    await p.start();
    try {
      await assert.rejects(p.consumeTraces(TracesData.fromProto(traceRequest(1))), RetryableError, 'soft limit is 800 MiB');
      usage = 700 * MIB;
      p.check();
      await p.consumeTraces(TracesData.fromProto(traceRequest(1)));
      assert.equal(sink.spanCount(), 1);
    } finally {
      await p.shutdown();
    }
  });

  it('forces a garbage collection above the soft limit, at most every min_gc_interval_when_soft_limited, and at every check above the hard limit; garbage it clears is neither refused nor reported', async () => {
    let usage = 40 * MIB;
    let gcs = 0;
    // What a collection frees: the dead part of what is measured, at once or `freeAfterMs` later
    // (V8 returns ArrayBuffer memory on a background thread).
    let garbage = 0;
    let freeAfterMs = 0;
    // Hard 100 MiB, soft 80; the timer's interval is an hour, checks are made here.
    const cfg = { ...memoryLimiterConfig.defaultValue, check_interval: 3_600_000, limit_mib: 100, min_gc_interval_when_soft_limited: 2000 };
    const { p, lines } = limiter(cfg, () => usage + garbage, {
      collectGarbage: () => {
        gcs++;
        if (freeAfterMs === 0) garbage = 0;
        else setTimeout(() => (garbage = 0), freeAfterMs);
      },
    });
    const warnings = () => lines.filter((l) => l.level === 'warn').map((l) => l.msg);
    await p.start();
    try {
      assert.equal(gcs, 0, 'none below the soft limit');
      // 70 MiB live and 20 dead, freed at once: taken on, as if nothing had happened.
      usage = 70 * MIB;
      garbage = 20 * MIB;
      p.check();
      assert.equal(gcs, 1);
      assert.equal(p.isLimited, false);
      // The same, freed 10 ms after the collection: refused until measured again, and not reported.
      await new Promise((r) => setTimeout(r, 2100));
      garbage = 20 * MIB;
      freeAfterMs = 10;
      p.check();
      assert.equal(gcs, 2);
      assert.equal(p.isLimited, true, 'refused until the freed memory has been returned');
      await settle();
      assert.equal(p.isLimited, false);
      assert.deepEqual(warnings(), [], 'garbage is no refusal episode');
      // 85 MiB live: no collection within min_gc_interval_when_soft_limited of the last; refused and reported.
      usage = 85 * MIB;
      p.check();
      assert.equal(gcs, 2, 'not again within min_gc_interval_when_soft_limited');
      assert.equal(p.isLimited, true);
      assert.equal(warnings().length, 1);
      await new Promise((r) => setTimeout(r, 2100));
      p.check();
      await settle();
      assert.equal(gcs, 3);
      assert.equal(p.isLimited, true);
      // Above the hard limit: at every check (min_gc_interval_when_hard_limited: 0), once the last
      // collection's memory has been measured.
      usage = 110 * MIB;
      p.check();
      p.check();
      assert.equal(gcs, 4, 'not while the last one is still to be measured');
      await settle();
      p.check();
      assert.equal(gcs, 5);
      await assert.rejects(p.consumeTraces(TracesData.fromProto(traceRequest(1))), RetryableError);
      assert.equal(warnings().length, 1, 'one episode');
    } finally {
      await p.shutdown();
    }
    // After shutdown nothing is measured or collected.
    p.check();
    assert.equal(gcs, 5);
  });

  it('forces a collection sooner than min_gc_interval_when_soft_limited once sending queues have let go of a quarter of the spike allowance since the last full collection, or of anything and hold nothing more', async () => {
    let usage = 85 * MIB;
    let gcs = 0;
    // What sending queues hold and let go of, as runtime/released-memory.ts counts it.
    const queues = { held: 0, released: 0, atCollection: 0 };
    const released: ReleasedMemory = { sinceCollection: () => queues.released - queues.atCollection, held: () => queues.held, collected: () => (queues.atCollection = queues.released) };
    const hold = (bytes: number) => (queues.held += bytes);
    const letGo = (bytes: number) => ((queues.held -= bytes), (queues.released += bytes));
    // Soft 80 MiB, hard 100: a quarter of the spike allowance is 5 MiB. No collection by the interval within this test.
    const cfg = { ...memoryLimiterConfig.defaultValue, check_interval: 3_600_000, limit_mib: 100, min_gc_interval_when_soft_limited: 3_600_000 };
    const { p } = limiter(cfg, () => usage, { collectGarbage: () => gcs++, released });
    const check = async () => (p.check(), await settle());
    hold(20 * MIB);
    await p.start();
    try {
      await settle();
      assert.equal(gcs, 1, 'the first check above the soft limit collects');
      assert.equal(p.isLimited, true);
      await check();
      assert.equal(gcs, 1, 'nothing let go of: not again within the interval');
      letGo(3 * MIB);
      await check();
      assert.equal(gcs, 1, '3 MiB let go of, 17 still held: less than a quarter of the spike allowance');
      letGo(2 * MIB);
      p.check();
      assert.equal(gcs, 2, '5 MiB let go of since the last collection');
      // What was delivered was garbage: once the collection's memory is returned, data is taken again.
      usage = 60 * MIB;
      await settle();
      assert.equal(p.isLimited, false);
      usage = 85 * MIB;
      await check();
      assert.equal(gcs, 2, 'counted from the last collection, not from start');
      assert.equal(p.isLimited, true);
      // V8 ran a full collection of its own (under load, every second or so): what was let go of before it is freed already.
      letGo(6 * MIB);
      queues.atCollection = queues.released;
      await check();
      assert.equal(gcs, 2, 'nothing let go of since V8 collected');
      // The queues let go of the last 1 MiB they held: less than a quarter, but nothing is held any more.
      letGo(1 * MIB);
      assert.equal(queues.held, 8 * MIB);
      letGo(8 * MIB);
      await check();
      assert.equal(gcs, 3, 'queues empty and something let go of since the last collection');
      await check();
      assert.equal(gcs, 3, 'not again for nothing');
    } finally {
      await p.shutdown();
    }
  });

  it("counts what sending queues hold and let go of, and V8's own full collections reset what was let go of", async () => {
    const before = { held: releasedMemory.held(), since: releasedMemory.sinceCollection() };
    const queue = new BoundedQueue<{ bytes: number }>(100, 1 << 30);
    assert.equal(queue.offer({ bytes: 3 * MIB }), true);
    assert.equal(releasedMemory.held() - before.held, 3 * MIB);
    queue.done(queue.poll()!);
    assert.equal(releasedMemory.held(), before.held);
    assert.equal(releasedMemory.sinceCollection() - before.since, 3 * MIB);
    collectGarbage(); // a full collection; the observer hears of it a moment later, as of V8's own
    const deadline = Date.now() + 2000;
    while (releasedMemory.sinceCollection() !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(releasedMemory.sinceCollection(), 0);
  });

  it('collectGarbage frees the memory of buffers nothing references any more, which V8 may otherwise keep for minutes after a burst', () => {
    // Buffers of 100 KB, as request bodies are, referenced by nothing once this returns.
    const allocated = Array.from({ length: 200 }, () => Buffer.alloc(100 * 1024, 1)).reduce((n, b) => n + b.length, 0);
    const before = process.memoryUsage().arrayBuffers;
    assert.ok(allocated === 200 * 100 * 1024 && before >= 20 * MIB, `premise: ${before} bytes of ArrayBuffers not yet collected`);
    collectGarbage();
    // V8 frees their memory on a background thread, after the collection returns.
    const deadline = Date.now() + 2000;
    while (before - process.memoryUsage().arrayBuffers < 18 * MIB && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    const after = process.memoryUsage().arrayBuffers;
    assert.ok(before - after >= 18 * MIB, `freed ${before - after} bytes`);
    // With frozen V8 flags, turning --expose-gc on would abort the process: the limiter does without.
    assert.equal(forcedGcUnavailable(['--max-old-space-size=96']), undefined);
    assert.match(forcedGcUnavailable(['--freeze-flags-after-init']) ?? '', /frozen/);
    assert.match(forcedGcUnavailable(['--no-freeze-flags-after-init', '--freeze_flags_after_init']) ?? '', /frozen/);
    assert.equal(forcedGcUnavailable(['--freeze-flags-after-init', '--no-freeze-flags-after-init']), undefined);
  });

  it('logs one warning and one line when data is taken again per refusal episode, however often memory crosses the soft limit within a check interval, and says at start when the limit is too small', async () => {
    let usage = 40 * MIB;
    const metrics = new MetricsRegistry();
    const cfg = { ...memoryLimiterConfig.defaultValue, check_interval: 100, limit_mib: 100 };
    const { p, lines } = limiter(cfg, () => usage, { metrics });
    const refusing = () => metricValue(metrics.render(), 'tracebridge_memory_limiter_refusing', { pipeline: '', processor: 'memory_limiter' });
    await p.start();
    try {
      const messages = () => lines.map((l) => l.msg as string).filter((m) => m.startsWith('memory') && m !== 'memory limiter started');
      // Above (opening an episode once the forced collection's measure confirms it), below, above,
      // below within a check interval, as under sustained overload.
      usage = 90 * MIB;
      p.check();
      await settle();
      assert.equal(refusing(), 1);
      await assert.rejects(p.consumeTraces(TracesData.fromProto(traceRequest(2))), RetryableError);
      usage = 70 * MIB;
      p.check();
      assert.equal(refusing(), 0);
      usage = 90 * MIB;
      p.check();
      await assert.rejects(p.consumeTraces(TracesData.fromProto(traceRequest(3))), RetryableError);
      usage = 70 * MIB;
      p.check();
      // The timer's checks find it below for a whole interval: the episode ends.
      await new Promise((r) => setTimeout(r, 350));
      assert.deepEqual(messages(), ['memory above the soft limit: refusing data with a retryable error', 'memory below the soft limit again: accepting data']);
      const ended = lines.find((l) => l.msg === 'memory below the soft limit again: accepting data')!;
      assert.equal(ended.refused_spans, 5);
      // A new episode logs again.
      usage = 90 * MIB;
      p.check();
      assert.equal(messages().length, 3);
    } finally {
      await p.shutdown();
    }
    assert.equal(lines.filter((l) => l.level === 'warn' || l.level === 'error').length, 2, 'no advice at start: 40 MiB idle, soft limit 80');

    // A container too small: the advice names the smallest limit that leaves 32 MiB for data.
    const advice = async (limits: Limits, idle: number, available?: AvailableMemory, reserved = 0, limitMiB = 0) => {
      const c = { ...memoryLimiterConfig.defaultValue, check_interval: 3_600_000, limit_mib: limitMiB, limit_percentage: limitMiB === 0 ? 80 : 0, spike_limit_percentage: limitMiB === 0 ? 20 : 0 };
      const { p: q, lines: seen } = limiter(c, () => idle, { limits, reserved, available });
      await q.start();
      await q.shutdown();
      return seen.find((l) => typeof l.msg === 'string' && l.msg.startsWith('memory limit ') && l.msg !== 'memory limiter started');
    };
    const pct = { ...memoryLimiterConfig.defaultValue, limit_percentage: 80, spike_limit_percentage: 20 };
    // 64 MiB container, 48 reserved: soft 9.6 MiB, below the 16 MiB idle.
    const tiny = await advice(computeLimits(pct, 16 * MIB), 16 * MIB, { bytes: 64 * MIB, source: 'cgroup' }, 48 * MIB);
    assert.equal(tiny?.level, 'error');
    // (16 + 32) / 0.6 + 48
    assert.equal(tiny?.smallest_container_limit_mib, 128);
    const small = await advice(computeLimits(pct, 64 * MIB), 16 * MIB, { bytes: 112 * MIB, source: 'cgroup' }, 48 * MIB);
    assert.equal(small?.level, 'warn');
    assert.equal(small?.smallest_container_limit_mib, 128);
    assert.equal(await advice(computeLimits(pct, 272 * MIB), 16 * MIB, { bytes: 320 * MIB, source: 'cgroup' }, 48 * MIB), undefined);
    // A container no larger than the reserve: still a container size, in percentage mode.
    const none = await advice(computeLimits(pct, 0), 16 * MIB, { bytes: 48 * MIB, source: 'cgroup' }, 48 * MIB);
    assert.equal(none?.level, 'error');
    assert.equal(none?.smallest_container_limit_mib, 128);
    // limit_mib: 40 (soft 32) with 20 MiB idle: the spike is 20% of limit_mib, so 52 / 0.8.
    const fixed = await advice(computeLimits({ ...memoryLimiterConfig.defaultValue, limit_mib: 40 }, 0), 20 * MIB, undefined, 0, 40);
    assert.equal(fixed?.level, 'warn');
    assert.equal(fixed?.smallest_limit_mib, 65);
    assert.equal(await advice(computeLimits({ ...memoryLimiterConfig.defaultValue, limit_mib: 65 }, 0), 20 * MIB, undefined, 0, 65), undefined, 'the advised limit_mib is enough');
  });

  it('measures at once, between checks, when a quarter of the spike allowance has been passed on since the last measure', async () => {
    let reads = 0;
    const sink = new SinkExporter();
    // Hard 100 MiB, soft 80: a check after every 5 MiB passed on; the timer's interval is an hour.
    const cfg = { ...memoryLimiterConfig.defaultValue, check_interval: 3_600_000, limit_mib: 100 };
    const { p } = limiter(cfg, () => (++reads === 1 ? 10 * MIB : 90 * MIB), { next: sink });
    await p.start();
    try {
      const data = TracesData.fromProto(traceRequest(20));
      let passed = 0;
      // Passed on until the measure after 5 MiB finds 90 MiB: that request is the first refused.
      await assert.rejects(async () => {
        while (passed < 6 * MIB) {
          await p.consumeTraces(data);
          passed += data.byteLength;
        }
      }, RetryableError);
      assert.equal(reads, 3, 'measured once more, and again right after the collection that forced');
      assert.ok(passed < 5 * MIB && passed + data.byteLength >= 5 * MIB, `measured after ${passed} bytes passed on`);
      assert.equal(sink.spanCount(), (passed / data.byteLength) * 20);
    } finally {
      await p.shutdown();
    }
  });

  it('reads private resident memory from /proc/self/status, and falls back to RSS where the kernel does not split it', () => {
    const status = 'Name:\tnode\nVmRSS:\t  102624 kB\nRssAnon:\t   47352 kB\nRssFile:\t   55016 kB\nRssShmem:\t     256 kB\nVmData:\t  300000 kB\n';
    assert.deepEqual(parseResidentMemory(status), { total: 102624 * 1024, file: 55016 * 1024, private: (47352 + 256) * 1024 });
    // Linux before 4.5: VmRSS only.
    assert.equal(parseResidentMemory('Name:\tnode\nVmRSS:\t  102624 kB\n'), undefined);
    let readable = true;
    const measured = privateMemoryMeasure(() => (readable ? parseResidentMemory(status) : undefined));
    assert.equal(measured.name, 'private');
    assert.equal(measured.read(), (47352 + 256) * 1024);
    // What the container's limit counts and the measure leaves out is reserved from the limit.
    assert.equal(measured.reserved, 55016 * 1024);
    // A read that fails later keeps the last figure, not RSS (~50 MiB more: refusals for nothing).
    readable = false;
    assert.equal(measured.read(), (47352 + 256) * 1024);
    const fallback = privateMemoryMeasure(() => undefined);
    assert.equal(fallback.name, 'rss');
    assert.equal(fallback.reserved, 0);
    assert.ok(fallback.read() > privateMemoryMeasure().read(), 'RSS, which counts file-backed pages too');
    // This machine's kernel gives the split, and private memory is a part of RSS.
    const own = privateMemoryMeasure();
    assert.equal(own.name, 'private');
    assert.ok(own.read() > 0 && own.read() < process.memoryUsage.rss());
  });

  it('computes limits as the collector does (spike defaults to 20% of the limit)', () => {
    const base = memoryLimiterConfig.defaultValue;
    assert.deepEqual(computeLimits({ ...base, limit_mib: 100 }, 0), { hard: 100 * MIB, soft: 80 * MIB });
    assert.deepEqual(computeLimits({ ...base, limit_mib: 100, spike_limit_mib: 10 }, 0), { hard: 100 * MIB, soft: 90 * MIB });
    assert.deepEqual(computeLimits({ ...base, limit_percentage: 80, spike_limit_percentage: 20 }, 1000 * MIB), { hard: 800 * MIB, soft: 600 * MIB });
    // limit_mib is compared with the measure as given, whatever the container holds.
    assert.deepEqual(computeLimits({ ...base, limit_mib: 100 }, 10 * MIB), { hard: 100 * MIB, soft: 80 * MIB });
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
    const gcIntervals = new ConfigErrors();
    const decoded = memoryLimiterConfig.decode({ check_interval: '1s', limit_mib: 100, min_gc_interval_when_soft_limited: '30s', min_gc_interval_when_hard_limited: 'often' }, 'processors.memory_limiter', gcIntervals);
    assert.equal(gcIntervals.list().length, 1);
    assert.match(gcIntervals.list()[0]!, /^processors\.memory_limiter\.min_gc_interval_when_hard_limited: /);
    assert.equal(decoded.min_gc_interval_when_soft_limited, 30_000);
    // The collector's defaults.
    const defaults = memoryLimiterConfig.decode({ check_interval: '1s', limit_mib: 100 }, 'processors.memory_limiter', new ConfigErrors());
    assert.equal(defaults.min_gc_interval_when_soft_limited, 10_000);
    assert.equal(defaults.min_gc_interval_when_hard_limited, 0);
    const none = new ConfigErrors();
    memoryLimiterConfig.decode({ check_interval: '1s' }, 'processors.memory_limiter', none);
    assert.deepEqual(none.list(), ['processors.memory_limiter: set limit_mib or limit_percentage']);
  });
});
