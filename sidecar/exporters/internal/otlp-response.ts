// Reads OTLP Export*ServiceResponse bodies without a schema. All three signals share the shape
//   Export{Trace,Metrics,Logs}ServiceResponse { 1: partial_success LEN }
//   Export*PartialSuccess { 1: rejected_{spans,data_points,log_records} VARINT int64, 2: error_message LEN string }
// and google.rpc.Status { 1: code VARINT, 2: message LEN, 3: details LEN repeated Any }
// (tags in pdata/fields.ts).
import {
  TAG_ANY_TYPE_URL,
  TAG_ANY_VALUE,
  TAG_DURATION_NANOS,
  TAG_DURATION_SECONDS,
  TAG_PARTIAL_SUCCESS_ERROR_MESSAGE,
  TAG_PARTIAL_SUCCESS_REJECTED,
  TAG_RETRY_INFO_DELAY,
  TAG_RPC_STATUS_CODE,
  TAG_RPC_STATUS_DETAILS,
  TAG_RPC_STATUS_MESSAGE,
  TAG_TRACE_RESPONSE_PARTIAL_SUCCESS,
} from '../../pdata/fields.ts';
import { WireReader } from '../../pdata/wire.ts';
import type { SendOutcome } from './request.ts';

const utf8 = new TextDecoder();

/** Partial success of a protobuf response; undefined for full success or an unreadable body. */
export function readPartialSuccess(body: Uint8Array): SendOutcome | undefined {
  try {
    const r = new WireReader(body);
    while (r.pos < r.end) {
      const tag = r.tag();
      if (tag !== TAG_TRACE_RESPONSE_PARTIAL_SUCCESS) {
        r.skip(tag & 7, tag >>> 3);
        continue;
      }
      const end = r.lenEnd();
      let rejected = 0;
      let message = '';
      const inner = new WireReader(body, r.pos, end);
      while (inner.pos < inner.end) {
        const t = inner.tag();
        if (t === TAG_PARTIAL_SUCCESS_REJECTED) rejected = inner.varint();
        else if (t === TAG_PARTIAL_SUCCESS_ERROR_MESSAGE) {
          const e = inner.lenEnd();
          message = utf8.decode(body.subarray(inner.pos, e));
          inner.pos = e;
        } else inner.skip(t & 7, t >>> 3);
      }
      r.pos = end;
      if (rejected > 0 || message !== '') return { rejected, message };
    }
  } catch {
    // A malformed success body does not turn a delivered request into a failure.
  }
  return undefined;
}

/** Partial success of an OTLP/JSON response (`{"partialSuccess": {"rejectedSpans": "2", ...}}`). */
export function readPartialSuccessJson(body: string): SendOutcome | undefined {
  try {
    const doc = JSON.parse(body) as { partialSuccess?: Record<string, unknown> } | null;
    const ps = doc?.partialSuccess;
    if (ps === undefined || ps === null || typeof ps !== 'object') return undefined;
    const count = ps.rejectedSpans ?? ps.rejectedDataPoints ?? ps.rejectedLogRecords ?? 0;
    const rejected = Number(count);
    const message = typeof ps.errorMessage === 'string' ? ps.errorMessage : '';
    if ((Number.isFinite(rejected) && rejected > 0) || message !== '') return { rejected: Number.isFinite(rejected) ? rejected : 0, message };
  } catch {
    // As above: unreadable success bodies are ignored.
  }
  return undefined;
}

export interface RpcStatus {
  code: number;
  message: string;
  /** Each detail's type URL and value bytes. */
  details: { typeUrl: string; value: Uint8Array }[];
}

/** Decodes a google.rpc.Status; undefined when the bytes are not one. */
export function readRpcStatus(body: Uint8Array): RpcStatus | undefined {
  try {
    const r = new WireReader(body);
    const out: RpcStatus = { code: 0, message: '', details: [] };
    while (r.pos < r.end) {
      const tag = r.tag();
      if (tag === TAG_RPC_STATUS_CODE) out.code = r.varint();
      else if (tag === TAG_RPC_STATUS_MESSAGE) {
        const e = r.lenEnd();
        out.message = utf8.decode(body.subarray(r.pos, e));
        r.pos = e;
      } else if (tag === TAG_RPC_STATUS_DETAILS) {
        const e = r.lenEnd();
        const any = new WireReader(body, r.pos, e);
        let typeUrl = '';
        let value: Uint8Array = new Uint8Array(0);
        while (any.pos < any.end) {
          const t = any.tag();
          if (t === TAG_ANY_TYPE_URL) {
            const te = any.lenEnd();
            typeUrl = utf8.decode(body.subarray(any.pos, te));
            any.pos = te;
          } else if (t === TAG_ANY_VALUE) {
            const ve = any.lenEnd();
            value = body.subarray(any.pos, ve);
            any.pos = ve;
          } else any.skip(t & 7, t >>> 3);
        }
        out.details.push({ typeUrl, value });
        r.pos = e;
      } else r.skip(tag & 7, tag >>> 3);
    }
    return out;
  } catch {
    return undefined;
  }
}

const RETRY_INFO = 'type.googleapis.com/google.rpc.RetryInfo';

/**
 * The delay of a google.rpc.RetryInfo detail in milliseconds, or undefined when the status has no
 * RetryInfo. RetryInfo { 1: retry_delay Duration }, Duration { 1: seconds int64, 2: nanos int32 }.
 */
export function retryInfoDelayMs(status: RpcStatus): number | undefined {
  const detail = status.details.find((d) => d.typeUrl === RETRY_INFO);
  if (detail === undefined) return undefined;
  let seconds = 0;
  let nanos = 0;
  try {
    const r = new WireReader(detail.value);
    while (r.pos < r.end) {
      const t = r.tag();
      if (t !== TAG_RETRY_INFO_DELAY) {
        r.skip(t & 7, t >>> 3);
        continue;
      }
      const e = r.lenEnd();
      const d = new WireReader(detail.value, r.pos, e);
      while (d.pos < d.end) {
        const dt = d.tag();
        if (dt === TAG_DURATION_SECONDS) seconds = d.varint();
        else if (dt === TAG_DURATION_NANOS) nanos = d.varint();
        else d.skip(dt & 7, dt >>> 3);
      }
      r.pos = e;
    }
  } catch {
    return 0;
  }
  // Negative int64 values arrive as huge varints: treat them as "no delay".
  if (seconds > 1e12 || nanos > 1e9) return 0;
  return seconds * 1000 + Math.floor(nanos / 1e6);
}
