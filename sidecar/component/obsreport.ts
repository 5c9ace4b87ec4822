// Self-metrics every receiver and exporter reports, under the collector's names and labels so
// its dashboards and alerts work unchanged.
import type { BoundCounter, MetricsRegistry } from '../telemetry/metrics.ts';

export interface ReceiverObs {
  accepted: BoundCounter;
  refused: BoundCounter;
}

export function receiverObs(metrics: MetricsRegistry, receiver: string, transport: string): ReceiverObs {
  const labels = { receiver, transport };
  return {
    accepted: metrics
      .counter('otelcol_receiver_accepted_spans_total', 'Number of spans successfully pushed into the pipeline.')
      .bind(labels),
    refused: metrics
      .counter('otelcol_receiver_refused_spans_total', 'Number of spans that could not be pushed into the pipeline.')
      .bind(labels),
  };
}

export interface PassthroughObs {
  accepted: BoundCounter;
  refused: BoundCounter;
}

/** Metrics and logs pass through unread, so they are counted in requests and bytes, not items. */
export function passthroughObs(metrics: MetricsRegistry, receiver: string, transport: string, signal: string): PassthroughObs {
  const labels = { receiver, transport, signal };
  return {
    accepted: metrics
      .counter('tracebridge_receiver_passthrough_accepted_requests_total', 'OTLP metrics/logs requests accepted for pass-through.')
      .bind(labels),
    refused: metrics
      .counter('tracebridge_receiver_passthrough_refused_requests_total', 'OTLP metrics/logs requests refused.')
      .bind(labels),
  };
}
