// Exporter self-metrics under the collector's names (label exporter=<id>), so its dashboards and
// alerts work unchanged. Sent and send-failed count once per request, after retries (as the
// collector's obsreport sender wraps its retry sender). Metrics and logs pass through unread, so
// they are counted in requests under tracebridge_ names.
import type { BoundCounter, MetricsRegistry } from '../../telemetry/metrics.ts';
import type { SignalName } from './request.ts';

export interface SignalCounters {
  sent: BoundCounter;
  failed: BoundCounter;
  enqueueFailed: BoundCounter;
}

export interface ExporterObs {
  bySignal: Record<SignalName, SignalCounters>;
  retries: BoundCounter;
}

export function exporterObs(metrics: MetricsRegistry, exporter: string): ExporterObs {
  const labels = { exporter };
  const traces: SignalCounters = {
    sent: metrics.counter('otelcol_exporter_sent_spans_total', 'Number of spans successfully sent to destination.').bind(labels),
    failed: metrics
      .counter('otelcol_exporter_send_failed_spans_total', 'Number of spans in failed attempts to send to destination.')
      .bind(labels),
    enqueueFailed: metrics
      .counter('otelcol_exporter_enqueue_failed_spans_total', 'Number of spans failed to be added to the sending queue.')
      .bind(labels),
  };
  const opaque = (signal: 'metrics' | 'logs'): SignalCounters => {
    const l = { exporter, signal };
    return {
      sent: metrics.counter('tracebridge_exporter_passthrough_sent_requests_total', 'OTLP metrics/logs requests sent to destination.').bind(l),
      failed: metrics
        .counter('tracebridge_exporter_passthrough_send_failed_requests_total', 'OTLP metrics/logs requests given up (permanent error, retries exhausted, drain deadline).')
        .bind(l),
      enqueueFailed: metrics
        .counter('tracebridge_exporter_passthrough_enqueue_failed_requests_total', 'OTLP metrics/logs requests refused because the sending queue was full.')
        .bind(l),
    };
  };
  return {
    bySignal: { traces, metrics: opaque('metrics'), logs: opaque('logs') },
    retries: metrics.counter('tracebridge_exporter_send_retries_total', 'Send attempts that failed with a retryable error and were retried.').bind(labels),
  };
}

export function registerQueueGauges(metrics: MetricsRegistry, exporter: string, q: { size: number; bytes: number; capacity: number; capacityBytes: number }): void {
  const labels = { exporter };
  metrics.gauge('otelcol_exporter_queue_size', 'Current size of the retry queue (in batches).').collect(labels, () => q.size);
  metrics.gauge('otelcol_exporter_queue_capacity', 'Fixed capacity of the retry queue (in batches).').collect(labels, () => q.capacity);
  metrics.gauge('tracebridge_exporter_queue_size_bytes', 'Bytes held by the sending queue: queued, and being sent or retried by its consumers.').collect(labels, () => q.bytes);
  metrics.gauge('tracebridge_exporter_queue_capacity_bytes', 'Byte bound of the sending queue (sending_queue.max_bytes).').collect(labels, () => q.capacityBytes);
}
