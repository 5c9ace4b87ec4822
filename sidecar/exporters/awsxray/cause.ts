// `fault` / `error` / `throttle` and `cause`, after the collector's makeCause (translator/cause.go):
// - HTTP status 5xx → fault; 4xx → error; 429 → error and throttle; otherwise (no status, or
//   outside 400–599) fault exactly when the span status is ERROR;
// - `cause.exceptions` from `exception` events (exception.type / .message / .stacktrace, the
//   stack parsed per `telemetry.sdk.language`), and for AWS SDK spans (rpc.system aws-api) from
//   `HTTP request failure` events; `remote` for CLIENT and PRODUCER spans;
// - without such events, a span with status ERROR gets one exception holding the status message
//   (or the `http.status_text` attribute when the message is empty).
// Exception IDs are derived from the span's IDs (derived-ids.ts) instead of drawn at random.
import type { Span } from '../../pdata/otlp-schema.ts';
import { SpanKind, StatusCode } from '../../pdata/otlp-schema.ts';
import { asInt, asText, type SpanAttributes } from './attributes.ts';
import { exceptionIdSource } from './derived-ids.ts';
import type { XRayException } from '../../aws/xray-segment.ts';
import type { CauseData } from './document.ts';
import { chainExceptions, parseStacktrace } from './stacktrace.ts';

const EXCEPTION_EVENT = 'exception';
const AWS_HTTP_FAILURE_EVENT = 'HTTP request failure';
const AWS_HTTP_ERROR_TYPE = 'aws.http.error.event';

export interface Outcome {
  fault: boolean;
  error: boolean;
  throttle: boolean;
  cause?: CauseData;
}

export function makeCause(span: Span, attrs: SpanAttributes, isAwsSdk: boolean, sdkLanguage: string): Outcome {
  const isError = span.status?.code === StatusCode.ERROR;
  const cause = exceptionsOf(span, isAwsSdk, sdkLanguage) ?? (isError ? statusCause(span, attrs) : undefined);

  const statusValue = attrs.get('http.status_code') ?? attrs.get('http.response.status_code');
  const code = statusValue === undefined ? undefined : asInt(statusValue);
  const out: Outcome = { fault: false, error: false, throttle: false };
  if (code === undefined || code < 400 || code > 599) out.fault = isError;
  else if (code <= 499) {
    out.error = true;
    out.throttle = code === 429;
  } else out.fault = true;
  if (cause !== undefined) out.cause = cause;
  return out;
}

function exceptionsOf(span: Span, isAwsSdk: boolean, sdkLanguage: string): CauseData | undefined {
  const events = span.events;
  if (events === undefined || events.length === 0) return undefined;
  let any = false;
  for (const e of events) {
    if (e.name === EXCEPTION_EVENT || (isAwsSdk && e.name === AWS_HTTP_FAILURE_EVENT)) {
      any = true;
      break;
    }
  }
  if (!any) return undefined;

  const nextId = exceptionIdSource(span.traceId ?? new Uint8Array(16), span.spanId ?? new Uint8Array(8));
  const remote = span.kind === SpanKind.CLIENT || span.kind === SpanKind.PRODUCER;
  const exceptions: XRayException[] = [];
  for (const e of events) {
    if (e.name === EXCEPTION_EVENT) {
      let type = '';
      let message = '';
      let stacktrace = '';
      for (const kv of e.attributes ?? []) {
        if (kv.value === undefined) continue;
        if (kv.key === 'exception.type') type = asText(kv.value) ?? '';
        else if (kv.key === 'exception.message') message = asText(kv.value) ?? '';
        else if (kv.key === 'exception.stacktrace') stacktrace = asText(kv.value) ?? '';
      }
      const top: XRayException = { id: nextId(), remote };
      if (type !== '') top.type = type;
      if (message !== '') top.message = message;
      const parsed = stacktrace === '' ? undefined : parseStacktrace(sdkLanguage, stacktrace);
      exceptions.push(...chainExceptions(top, parsed, nextId));
    } else if (isAwsSdk && e.name === AWS_HTTP_FAILURE_EVENT) {
      let code: string | undefined;
      let message: string | undefined;
      for (const kv of e.attributes ?? []) {
        if (kv.value === undefined) continue;
        if (kv.key === 'http.response.status_code') code = asText(kv.value);
        else if (kv.key === 'aws.http.error_message') message = asText(kv.value);
      }
      if (code === undefined || message === undefined) continue;
      // The collector's format: "<status>@<epoch seconds, 6 decimals>@<message>".
      const micros = e.timeUnixNano === undefined ? 0n : BigInt(e.timeUnixNano) / 1000n;
      const seconds = `${micros / 1_000_000n}.${(micros % 1_000_000n).toString().padStart(6, '0')}`;
      exceptions.push({ id: nextId(), type: AWS_HTTP_ERROR_TYPE, remote: true, message: `${code}@${seconds}@${message}` });
    }
  }
  return { exceptions };
}

function statusCause(span: Span, attrs: SpanAttributes): CauseData | undefined {
  let message = span.status?.message ?? '';
  if (attrs.has('http.status_text')) {
    attrs.consumed.add('http.status_text');
    if (message === '') message = attrs.text('http.status_text') ?? '';
  }
  if (message === '') return undefined;
  const nextId = exceptionIdSource(span.traceId ?? new Uint8Array(16), span.spanId ?? new Uint8Array(8));
  return { exceptions: [{ id: nextId(), message }] };
}
