// Config blocks every queued exporter shares, with the collector's exporterhelper field names and
// defaults (`timeout`, `sending_queue`, `retry_on_failure`), plus `sending_queue.max_bytes`: the
// collector bounds its queue in requests only, and a per-pod sidecar must bound memory too.
import { bool, duration, int, number, object, withDefault } from '../../config/schema.ts';

export const DEFAULT_QUEUE_MAX_BYTES = 32 * 1024 * 1024;

export const sendingQueueConfig = object({
  /** Off: consumeTraces sends synchronously (with retries) and the caller waits for the outcome. */
  enabled: withDefault(bool(), true),
  /** Concurrent senders draining the queue. */
  num_consumers: withDefault(int({ min: 1, max: 1000 }), 10),
  /** Requests (batches) held before new data is refused with a retryable error. */
  queue_size: withDefault(int({ min: 1 }), 1000),
  /**
   * tracebridge-only: bytes (encoded, before compression) held before new data is refused. Both
   * bounds apply; a single request larger than this is accepted only into an empty queue, so an
   * oversized batch cannot wedge the pipeline.
   */
  max_bytes: withDefault(int({ min: 1024 }), DEFAULT_QUEUE_MAX_BYTES),
});

export const retryOnFailureConfig = object(
  {
    enabled: withDefault(bool(), true),
    /** Wait after the first failure. */
    initial_interval: withDefault(duration({ min: 0 }), 5_000),
    /** Each wait is the interval times a random factor in [1 - r, 1 + r]. */
    randomization_factor: withDefault(number({ min: 0, max: 1 }), 0.5),
    /** Growth of the interval per retry. */
    multiplier: withDefault(number({ min: 1 }), 1.5),
    /** Upper bound of the interval (before randomization). */
    max_interval: withDefault(duration({ min: 0 }), 30_000),
    /** Give a request up after this long; 0 = never (until shutdown's deadline). */
    max_elapsed_time: withDefault(duration({ min: 0 }), 300_000),
  },
  {
    check(cfg, path, errors) {
      if (!cfg.enabled || cfg.max_elapsed_time === 0) return;
      if (cfg.max_elapsed_time < cfg.initial_interval) errors.add(`${path}.max_elapsed_time`, 'must not be less than initial_interval');
      if (cfg.max_elapsed_time < cfg.max_interval) errors.add(`${path}.max_elapsed_time`, 'must not be less than max_interval');
    },
  },
);

/**
 * tracebridge-only caps on one request to the backend. Larger requests are split (traces at
 * resource / scope / span boundaries) before they are sent; a request the backend still refuses as
 * too large (HTTP 413, gRPC RESOURCE_EXHAUSTED without RetryInfo) is split again and retried.
 */
export function requestLimitFields(defaultBytes: number) {
  return {
    /** Spans per request; 0 = no cap. */
    max_request_spans: withDefault(int({ min: 0 }), 0),
    /** Encoded bytes per request, before compression; 0 = no cap. */
    max_request_bytes: withDefault(int({ min: 0 }), defaultBytes),
  };
}

/** Time limit of one send attempt (collector exporterhelper default 5s; otlphttp uses 30s). */
export function timeoutConfig(defaultMs: number) {
  return withDefault(duration({ min: 1, max: 600_000 }), defaultMs);
}

export type SendingQueueConfig = typeof sendingQueueConfig.defaultValue;
export type RetryOnFailureConfig = typeof retryOnFailureConfig.defaultValue;

/** The fields of an exporter config the shared send machinery reads. */
export interface QueuedExporterConfig {
  timeout: number;
  sending_queue: SendingQueueConfig;
  retry_on_failure: RetryOnFailureConfig;
}
