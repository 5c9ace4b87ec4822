// What flows through an exporter's queue: one request for the backend, with the figures the queue
// bounds (bytes) and the metrics count (items). Exporters extend it with their payload.
import { PermanentError } from '../../component/errors.ts';

export type SignalName = 'traces' | 'metrics' | 'logs';

export interface ExportRequest {
  readonly signal: SignalName;
  /** Spans for traces; 1 for metrics and logs, which pass through unread and are counted in requests. */
  readonly items: number;
  /** Memory held while queued (encoded size before compression); what `sending_queue.max_bytes` bounds. */
  readonly bytes: number;
}

/** A delivered request may still have had items refused for good (OTLP partial_success): not retried. */
export interface SendOutcome {
  rejected: number;
  message: string;
}

/**
 * One delivery attempt, implemented by each exporter. Resolve when the backend accepted the
 * request (optionally with a partial rejection). Throw PermanentError when retrying cannot help,
 * RetryableError (with retryAfterMs for a server hint) or any other error to be retried, or
 * RetryRemainder to retry only part of it. `abort` fires at the attempt's timeout or the drain
 * deadline; the attempt must then stop promptly.
 */
export interface ExportSender<R extends ExportRequest> {
  send(req: R, abort: AbortSignal): Promise<SendOutcome | void>;
  /**
   * Parts of at most `maxItems` items and `maxBytes` bytes (0 = no bound), for requests over the
   * exporter's limits or refused as too large; undefined when the request cannot be split.
   * Exporters without it send every request whole.
   */
  split?(req: R, maxItems: number, maxBytes: number): R[] | undefined;
}

/**
 * The backend refused a request for its size (HTTP 413, gRPC RESOURCE_EXHAUSTED without RetryInfo).
 * Sending it again cannot help, sending it in smaller parts can: the sender splits it, down to
 * `limitBytes` when the backend said its limit, else in halves.
 */
export class RequestTooLarge extends PermanentError {
  readonly limitBytes: number | undefined;

  constructor(message: string, limitBytes?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RequestTooLarge';
    this.limitBytes = limitBytes;
  }
}

/** Caps on one request to the backend; 0 = none. */
export interface RequestLimits {
  items: number;
  bytes: number;
}

