// Self-metrics of the awsxray exporter beyond the shared exporter counters (spans sent, failed,
// enqueue failed, retries: exporters/internal/obs.ts). All tracebridge-only, hence the prefix.
import type { BoundCounter, Counter, MetricsRegistry } from '../../telemetry/metrics.ts';

export interface XRayObs {
  invalidTraceIds: BoundCounter;
  trimmed: BoundCounter;
  tooLarge: BoundCounter;
  sharedServerSpans: BoundCounter;
  /** Labelled by X-Ray's error code; `retried` says whether the segment went back for another attempt. */
  unprocessed: (code: string, retried: boolean) => void;
}

export function xrayObs(metrics: MetricsRegistry, exporter: string): XRayObs {
  const labels = { exporter };
  const unprocessed: Counter = metrics.counter(
    'tracebridge_exporter_awsxray_unprocessed_segments_total',
    'Segments X-Ray returned in UnprocessedTraceSegments, by error code and whether they were retried.',
  );
  return {
    invalidTraceIds: metrics
      .counter('tracebridge_exporter_awsxray_invalid_trace_ids_total', 'Spans sent with a trace ID that legacy X-Ray ingestion rejects (first 4 bytes not an epoch within 28 days before / 5 minutes after now).')
      .bind(labels),
    trimmed: metrics
      .counter('tracebridge_exporter_awsxray_documents_trimmed_total', 'Segment documents over 64 kB that were trimmed (metadata, then annotations, then cause stacks) to fit.')
      .bind(labels),
    tooLarge: metrics
      .counter('tracebridge_exporter_awsxray_documents_too_large_total', 'Segment documents still over 64 kB after trimming, dropped (also counted as failed spans).')
      .bind(labels),
    sharedServerSpans: metrics
      .counter('tracebridge_exporter_awsxray_shared_server_spans_total', 'SERVER halves of Zipkin shared spans given a derived segment ID.')
      .bind(labels),
    // Error codes come from the X-Ray API: a short, fixed set; cut anyway so a surprise cannot grow the series.
    unprocessed: (code, retried) => unprocessed.add(1, { exporter, code: code.slice(0, 64), retried: String(retried) }),
  };
}
