// Reads OTLP Export*ServiceResponse bodies without a schema. All three signals share the shape
//   Export{Trace,Metrics,Logs}ServiceResponse { 1: partial_success LEN }
//   Export*PartialSuccess { 1: rejected_{spans,data_points,log_records} VARINT int64, 2: error_message LEN string }
// (tags in pdata/fields.ts). google.rpc.Status bodies are read by net/rpc-status.ts.
import {
  TAG_PARTIAL_SUCCESS_ERROR_MESSAGE,
  TAG_PARTIAL_SUCCESS_REJECTED,
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
      let rejected = 0;
      let message = '';
      const inner = new WireReader(r.lenBytes());
      while (inner.pos < inner.end) {
        const t = inner.tag();
        if (t === TAG_PARTIAL_SUCCESS_REJECTED) rejected = inner.varint();
        else if (t === TAG_PARTIAL_SUCCESS_ERROR_MESSAGE) message = utf8.decode(inner.lenBytes());
        else inner.skip(t & 7, t >>> 3);
      }
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
