// Exponential backoff with jitter, as the collector's retry sender (cenkalti/backoff): the n-th wait
// is the interval randomized by ±randomization_factor, the interval grows by `multiplier` up to
// `max_interval`. A server hint (gRPC RetryInfo, HTTP Retry-After) raises the wait, never lowers it.
import { RetryableError } from '../../component/errors.ts';
import type { RetryOnFailureConfig } from './config.ts';

export type BackoffConfig = Pick<RetryOnFailureConfig, 'initial_interval' | 'randomization_factor' | 'multiplier' | 'max_interval'>;

export class Backoff {
  private interval: number;
  private readonly cfg: BackoffConfig;
  private readonly random: () => number;

  constructor(cfg: BackoffConfig, random: () => number = Math.random) {
    this.cfg = cfg;
    this.random = random;
    this.interval = cfg.initial_interval;
  }

  /** The next wait in milliseconds. */
  next(): number {
    const { randomization_factor: r, multiplier, max_interval } = this.cfg;
    const delta = r * this.interval;
    const wait = this.interval - delta + this.random() * 2 * delta;
    this.interval = Math.min(this.interval * multiplier, max_interval);
    return Math.max(0, Math.round(wait));
  }
}

/** The wait before the next attempt: the backoff, raised to the server's hint when there is one. */
export function retryDelay(backoffMs: number, err: unknown): number {
  const hint = err instanceof RetryableError ? err.retryAfterMs : undefined;
  return hint !== undefined && hint > backoffMs ? hint : backoffMs;
}

/**
 * Thrown by a sender when part of a request was delivered and the rest should be retried (the
 * X-Ray API's UnprocessedTraceSegments; the collector's request.ErrorHandler). `remaining` replaces
 * the request for the next attempt; the delivered items are counted as sent.
 */
export class RetryRemainder<R> extends RetryableError {
  readonly remaining: R;

  constructor(remaining: R, message: string, opts: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, opts);
    this.name = 'RetryRemainder';
    this.remaining = remaining;
  }
}

/** Resolves after `ms`, or early (false) when `signal` aborts. The timer does not hold the process. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    timer.unref();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
