// The shared send machinery with a scripted in-process sender (the backend double): what is
// retried, what is dropped, what is counted, and how shutdown drains. Network behaviour is covered
// end to end by the otlp and otlphttp exporter tests against real servers.
import assert from 'node:assert/strict';
import type { CreateSettings, Host } from '../../../../sidecar/component/component.ts';
import { PermanentError, RetryableError } from '../../../../sidecar/component/errors.ts';
import { retryOnFailureConfig, sendingQueueConfig, type QueuedExporterConfig } from '../../../../sidecar/exporters/internal/config.ts';
import { QueuedSender } from '../../../../sidecar/exporters/internal/queued-sender.ts';
import type { ExportRequest, ExportSender, SendOutcome } from '../../../../sidecar/exporters/internal/request.ts';
import { RetryRemainder } from '../../../../sidecar/exporters/internal/retry.ts';
import { MetricsRegistry } from '../../../../sidecar/telemetry/metrics.ts';
import { metricValue } from '../../../support/delivery.ts';
import { silentLogger } from '../../../support/sink.ts';
import { collectGarbage } from '../../../support/gc.ts';

interface Req extends ExportRequest {
  id: number;
}

type Step = (req: Req, abort: AbortSignal) => Promise<SendOutcome | void>;

class ScriptedSender implements ExportSender<Req> {
  readonly attempts: { id: number; items: number; at: number }[] = [];
  script: Step[] = [];
  fallback: Step = () => Promise.resolve();

  send(req: Req, abort: AbortSignal): Promise<SendOutcome | void> {
    this.attempts.push({ id: req.id, items: req.items, at: Date.now() });
    return (this.script.shift() ?? this.fallback)(req, abort);
  }
}

const hang: Step = (_req, abort) => new Promise((_resolve, reject) => abort.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));

function config(overrides: { queue?: Record<string, unknown>; retry?: Record<string, unknown>; timeout?: number } = {}): QueuedExporterConfig {
  return {
    timeout: overrides.timeout ?? 1000,
    sending_queue: { ...sendingQueueConfig.defaultValue, num_consumers: 1, ...overrides.queue },
    retry_on_failure: { ...retryOnFailureConfig.defaultValue, initial_interval: 5, max_interval: 20, ...overrides.retry },
  };
}

function setup(cfg: QueuedExporterConfig, drainInMs?: number) {
  const metrics = new MetricsRegistry();
  const settings: CreateSettings = { id: 'otlp/test', kind: 'exporter', logger: silentLogger, metrics };
  const sender = new ScriptedSender();
  const qs = new QueuedSender<Req>(settings, cfg, sender);
  const host = {
    getExtension: () => undefined,
    status: 'running',
    startedAt: new Date(),
    get drainDeadline() {
      return drainInMs === undefined ? undefined : started + drainInMs;
    },
  } as Host;
  const started = Date.now();
  qs.start(host);
  const value = (name: string) => metricValue(metrics.render(), name, { exporter: 'otlp/test' });
  return { qs, sender, metrics, value };
}

let ids = 0;
const req = (items = 3, bytes = 100): Req => ({ signal: 'traces', items, bytes, id: ++ids });

describe('exporter queued sender', () => {
  it('refuses with a retryable error when the queue is full and counts the spans', async () => {
    const { qs, sender, value } = setup(config({ queue: { queue_size: 2 }, timeout: 50 }));
    sender.fallback = hang;
    await qs.enqueue(req()); // taken by the single consumer
    await new Promise((r) => setImmediate(r));
    await qs.enqueue(req());
    await qs.enqueue(req());
    await assert.rejects(qs.enqueue(req(5)), (err: unknown) => err instanceof RetryableError && /queue is full/.test(err.message));
    assert.equal(value('otelcol_exporter_enqueue_failed_spans_total'), 5);
    assert.equal(value('otelcol_exporter_queue_size'), 2);
    assert.equal(value('otelcol_exporter_queue_capacity'), 2);
    // Two queued and one held by the consumer: max_bytes counts all three.
    assert.equal(value('tracebridge_exporter_queue_size_bytes'), 300);
    sender.fallback = () => Promise.resolve();
    await qs.shutdown();
  });

  // A consumer waiting for the next request must not keep the last one it sent: with 10 consumers
  // and 8 MiB batches, that was 80 MiB held for as long as the queue stayed quiet.
  it('keeps no request it has delivered: waiting consumers hold nothing', async () => {
    const { qs, sender } = setup(config({ queue: { num_consumers: 4 } }));
    const payloads: WeakRef<Buffer>[] = [];
    // Made in a plain function: this test's own suspended frame must not hold the last payload.
    const enqueue = (i: number) => {
      const payload = Buffer.alloc(256 * 1024, i);
      payloads.push(new WeakRef(payload));
      return qs.enqueue({ ...req(1, payload.length), payload } as Req);
    };
    for (let i = 0; i < 8; i++) await enqueue(i);
    for (let i = 0; i < 100 && sender.attempts.length < 8; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(sender.attempts.length, 8, 'every request was sent');
    await collectGarbage();
    const kept = payloads.flatMap((ref, i) => (ref.deref() === undefined ? [] : [i]));
    assert.deepEqual(kept, [], `payloads still reachable after delivery: ${kept.join(', ')}`);
    await qs.shutdown();
  });

  it('drops permanent errors at once, retries the rest, and counts each outcome once', async () => {
    const { qs, sender, value } = setup(config());
    sender.script = [
      () => Promise.reject(new PermanentError('bad data')),
      () => Promise.reject(new RetryableError('busy')),
      () => Promise.reject(new Error('ECONNRESET')),
    ];
    await qs.enqueue(req(4));
    await qs.enqueue(req(6));
    await qs.shutdown();
    assert.deepEqual(sender.attempts.map((a) => a.id), [ids - 1, ids, ids, ids]);
    assert.equal(value('otelcol_exporter_send_failed_spans_total'), 4);
    assert.equal(value('otelcol_exporter_sent_spans_total'), 6);
    assert.equal(value('tracebridge_exporter_send_retries_total'), 2);
  });

  it('retries only the remainder when a sender delivered part of a request', async () => {
    const { qs, sender, value } = setup(config());
    sender.script = [(r) => Promise.reject(new RetryRemainder<Req>({ ...r, items: 2 }, 'unprocessed segments'))];
    await qs.enqueue(req(10));
    await qs.shutdown();
    assert.deepEqual(sender.attempts.map((a) => a.items), [10, 2]);
    assert.equal(value('otelcol_exporter_sent_spans_total'), 10);
    assert.equal(value('otelcol_exporter_send_failed_spans_total'), 0);
  });

  it('counts spans a backend refused in a partial success as failed, without retrying them', async () => {
    const { qs, sender, value } = setup(config());
    sender.script = [() => Promise.resolve({ rejected: 3, message: 'too old' })];
    await qs.enqueue(req(10));
    await qs.shutdown();
    assert.equal(sender.attempts.length, 1);
    assert.equal(value('otelcol_exporter_sent_spans_total'), 7);
    assert.equal(value('otelcol_exporter_send_failed_spans_total'), 3);
  });

  it('gives up after max_elapsed_time', async () => {
    const { qs, sender, value } = setup(config({ retry: { initial_interval: 20, max_interval: 20, max_elapsed_time: 60 } }));
    sender.fallback = () => Promise.reject(new RetryableError('down'));
    await qs.enqueue(req(2));
    await qs.shutdown();
    assert.ok(sender.attempts.length >= 2 && sender.attempts.length <= 5, `attempts: ${sender.attempts.length}`);
    assert.equal(value('otelcol_exporter_send_failed_spans_total'), 2);
  });

  it('times out an attempt after `timeout` and retries it', async () => {
    const { qs, sender, value } = setup(config({ timeout: 30 }));
    sender.script = [hang];
    await qs.enqueue(req(1));
    await qs.shutdown();
    assert.equal(sender.attempts.length, 2);
    assert.equal(value('otelcol_exporter_sent_spans_total'), 1);
  });

  it('drains until the deadline, then drops what is left and resolves', async () => {
    const { qs, sender, value } = setup(config({ timeout: 60_000, retry: { max_elapsed_time: 0 } }), 150);
    sender.fallback = hang;
    for (let i = 0; i < 3; i++) await qs.enqueue(req(1));
    await qs.shutdown();
    assert.equal(value('otelcol_exporter_send_failed_spans_total'), 3);
    await assert.rejects(qs.enqueue(req(1)), RetryableError);
  });

  it('without a queue, sends in the caller and hands it the final error', async () => {
    const { qs, sender, value } = setup(config({ queue: { enabled: false } }));
    sender.script = [() => Promise.reject(new PermanentError('schema violation'))];
    await assert.rejects(qs.enqueue(req(2)), PermanentError);
    await qs.enqueue(req(3));
    assert.equal(value('otelcol_exporter_sent_spans_total'), 3);
    assert.equal(value('otelcol_exporter_send_failed_spans_total'), 2);
    await qs.shutdown();
  });
});
