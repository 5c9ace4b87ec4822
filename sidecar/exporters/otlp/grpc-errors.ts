// gRPC failures classified per the OTLP specification (and the collector's otlpexporter):
// CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE and DATA_LOSS are retryable;
// RESOURCE_EXHAUSTED only when the server sent RetryInfo (it can recover); everything else is
// permanent. A RetryInfo delay (grpc-status-details-bin trailer) becomes the retry hint. One
// departure: a stream reset with ENHANCE_YOUR_CALM (RESOURCE_EXHAUSTED without RetryInfo in
// grpc-go) is a throttle, retried whole, since the server is shedding load, not refusing the data.
import { PermanentError, RetryableError } from '../../component/errors.ts';
import { readRpcStatus, retryInfoDelayMs } from '../../net/rpc-status.ts';
import { RequestTooLarge } from '../internal/request.ts';
import { GrpcCode, grpcCodeName } from '../../net/grpc-protocol.ts';
import type { GrpcCallError } from './grpc-status.ts';

const RETRYABLE = new Set<number>([
  GrpcCode.CANCELLED,
  GrpcCode.DEADLINE_EXCEEDED,
  GrpcCode.ABORTED,
  GrpcCode.OUT_OF_RANGE,
  GrpcCode.UNAVAILABLE,
  GrpcCode.DATA_LOSS,
]);

/** RetryInfo delay from the status details trailer, if the server sent one. */
export function retryInfoOf(err: Pick<GrpcCallError, 'statusDetails'>): number | undefined {
  if (err.statusDetails === undefined) return undefined;
  const st = readRpcStatus(err.statusDetails);
  return st === undefined ? undefined : retryInfoDelayMs(st);
}

export function classifyGrpcError(err: GrpcCallError): PermanentError | RetryableError {
  const retryAfterMs = retryInfoOf(err);
  const message = `gRPC ${grpcCodeName(err.code)}: ${err.details || err.message}`;
  // The backend took the request and answered with more than we accept: sending it again (or in
  // parts) would deliver it twice.
  if (err.responseTooLarge) return new PermanentError(message, { cause: err });
  // A stream reset with ENHANCE_YOUR_CALM says "slow down", not "too large": retried whole.
  const retryable = RETRYABLE.has(err.code) || err.loadShed || (err.code === GrpcCode.RESOURCE_EXHAUSTED && retryAfterMs !== undefined);
  // RESOURCE_EXHAUSTED without RetryInfo is how gRPC servers refuse a message over their receive
  // limit ("Received message larger than max (N vs. M)", grpc-go and grpc-js alike): split it.
  if (err.code === GrpcCode.RESOURCE_EXHAUSTED && !retryable) return new RequestTooLarge(message, receiveLimitOf(err.details), { cause: err });
  if (!retryable) return new PermanentError(message, { cause: err });
  return new RetryableError(message, {
    retryAfterMs: retryAfterMs !== undefined && retryAfterMs > 0 ? retryAfterMs : undefined,
    throttle: err.code === GrpcCode.RESOURCE_EXHAUSTED,
    cause: err,
  });
}

/** M of "larger than max (N vs. M)", the limit a gRPC server names when it refuses a message. */
function receiveLimitOf(details: string | undefined): number | undefined {
  const m = /larger than max \((\d+) vs\.? (\d+)\)/.exec(details ?? '');
  return m === null ? undefined : Number(m[2]);
}
