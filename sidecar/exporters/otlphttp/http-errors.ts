// HTTP answers classified per the OTLP specification: 429, 502, 503 and 504 are retryable (with
// Retry-After honoured), every other non-2xx is permanent. The body of a failure is a
// google.rpc.Status (protobuf or JSON) whose message makes the error readable.
import { PermanentError, RetryableError } from '../../component/errors.ts';
import { readRpcStatus } from '../../net/rpc-status.ts';
import { RequestTooLarge } from '../internal/request.ts';

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/** Retry-After as milliseconds: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function statusMessage(body: Buffer, contentType: string): string | undefined {
  if (body.length === 0) return undefined;
  if (contentType.startsWith('application/json')) {
    try {
      const doc = JSON.parse(body.toString('utf8')) as { message?: unknown };
      if (typeof doc.message === 'string') return doc.message;
    } catch {
      // fall through to the raw text
    }
  } else if (contentType.startsWith('application/x-protobuf')) {
    const st = readRpcStatus(body);
    if (st !== undefined && st.message !== '') return st.message;
  }
  const text = body.toString('utf8', 0, Math.min(body.length, 512)).trim();
  return /^[\x20-\x7e\s]*$/.test(text) && text !== '' ? text : undefined;
}

export function classifyHttpFailure(url: string, status: number, headers: { 'retry-after'?: string; 'content-type'?: string }, body: Buffer): PermanentError | RetryableError {
  const detail = statusMessage(body, headers['content-type'] ?? '');
  const message = `${url} answered HTTP ${status}${detail ? `: ${detail}` : ''}`;
  // 413 Content Too Large: the same bytes will be refused again, smaller requests will not.
  if (status === 413) return new RequestTooLarge(message);
  if (!RETRYABLE_STATUS.has(status)) return new PermanentError(message);
  return new RetryableError(message, { retryAfterMs: parseRetryAfter(headers['retry-after']), throttle: status === 429 });
}
