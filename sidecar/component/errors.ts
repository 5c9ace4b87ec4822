// Error classes that tell receivers how to answer and exporters whether to retry
// (the collector's consumererror: permanent vs retryable).

/** The data is bad and will never be accepted: do not retry (gRPC INVALID_ARGUMENT, HTTP 400). */
export class PermanentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/** Refused for now (queue full, memory pressure, backend down): retry later (UNAVAILABLE, 503/429). */
export class RetryableError extends Error {
  readonly retryAfterMs: number | undefined;
  /** True for "slow down" (HTTP 429) rather than "unavailable" (503). */
  readonly throttle: boolean;

  constructor(message: string, opts: { retryAfterMs?: number; throttle?: boolean; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'RetryableError';
    this.retryAfterMs = opts.retryAfterMs;
    this.throttle = opts.throttle ?? false;
  }
}

/** Some spans of a request were refused; the rest were accepted (OTLP partial_success). */
export class PartialRejection extends Error {
  readonly rejected: number;

  constructor(rejected: number, message: string) {
    super(message);
    this.name = 'PartialRejection';
    this.rejected = rejected;
  }
}

export function isPermanent(err: unknown): boolean {
  return err instanceof PermanentError;
}

export type Refusal =
  | { kind: 'invalid'; message: string }
  | { kind: 'unavailable' | 'throttle'; message: string; retryAfterMs: number | undefined };

/** How a receiver should answer a failed consume: bad data, or "retry later". */
export function classifyRefusal(err: unknown): Refusal {
  if (err instanceof PermanentError) return { kind: 'invalid', message: err.message };
  if (err instanceof RetryableError) {
    return { kind: err.throttle ? 'throttle' : 'unavailable', message: err.message, retryAfterMs: err.retryAfterMs };
  }
  // Unknown failures are treated as transient: the sender keeps the data and retries.
  return { kind: 'unavailable', message: err instanceof Error ? err.message : String(err), retryAfterMs: undefined };
}
