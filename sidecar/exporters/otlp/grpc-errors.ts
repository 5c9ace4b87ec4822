// gRPC failures classified per the OTLP specification (and the collector's otlpexporter):
// CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE and DATA_LOSS are retryable;
// RESOURCE_EXHAUSTED only when the server sent RetryInfo (it can recover); everything else is
// permanent. A RetryInfo delay (grpc-status-details-bin trailer) becomes the retry hint.
import { status, type ServiceError } from '@grpc/grpc-js';
import { PermanentError, RetryableError } from '../../component/errors.ts';
import { readRpcStatus, retryInfoDelayMs } from '../internal/otlp-response.ts';
import { RequestTooLarge } from '../internal/request.ts';

const RETRYABLE = new Set<number>([
  status.CANCELLED,
  status.DEADLINE_EXCEEDED,
  status.ABORTED,
  status.OUT_OF_RANGE,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);

/** RetryInfo delay from the status details trailer, if the server sent one. */
export function retryInfoOf(err: Pick<ServiceError, 'metadata'>): number | undefined {
  const raw = err.metadata?.get('grpc-status-details-bin')[0];
  if (raw === undefined || typeof raw === 'string') return undefined;
  const st = readRpcStatus(raw);
  return st === undefined ? undefined : retryInfoDelayMs(st);
}

export function classifyGrpcError(err: ServiceError): PermanentError | RetryableError {
  const retryAfterMs = retryInfoOf(err);
  const name = status[err.code] ?? String(err.code);
  const message = `gRPC ${name}: ${err.details || err.message}`;
  const retryable = RETRYABLE.has(err.code) || (err.code === status.RESOURCE_EXHAUSTED && retryAfterMs !== undefined);
  // RESOURCE_EXHAUSTED without RetryInfo is how gRPC servers refuse a message over their receive
  // limit ("Received message larger than max (N vs. M)", grpc-go and grpc-js alike): split it.
  if (err.code === status.RESOURCE_EXHAUSTED && !retryable) return new RequestTooLarge(message, receiveLimitOf(err.details), { cause: err });
  if (!retryable) return new PermanentError(message, { cause: err });
  return new RetryableError(message, {
    retryAfterMs: retryAfterMs !== undefined && retryAfterMs > 0 ? retryAfterMs : undefined,
    throttle: err.code === status.RESOURCE_EXHAUSTED,
    cause: err,
  });
}

/** M of "larger than max (N vs. M)", the limit a gRPC server names when it refuses a message. */
function receiveLimitOf(details: string | undefined): number | undefined {
  const m = /larger than max \((\d+) vs\.? (\d+)\)/.exec(details ?? '');
  return m === null ? undefined : Number(m[2]);
}
