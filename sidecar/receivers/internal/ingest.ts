// The common tail of every trace receiver: hand the batch to the pipeline, count it, and turn
// the outcome into an answer the transport can send (gRPC status or HTTP status).
import type { TracesConsumer } from '../../component/component.ts';
import { classifyRefusal, PartialRejection, type Refusal } from '../../component/errors.ts';
import type { ReceiverObs } from '../../component/obsreport.ts';
import type { TracesData } from '../../pdata/traces.ts';

export type IngestOutcome = { ok: true; rejected: number; message: string } | ({ ok: false } & Refusal);

export async function ingestTraces(next: TracesConsumer, obs: ReceiverObs, data: TracesData): Promise<IngestOutcome> {
  const n = data.spanCount;
  try {
    await next.consumeTraces(data);
    obs.accepted.add(n);
    return { ok: true, rejected: 0, message: '' };
  } catch (err) {
    if (err instanceof PartialRejection) {
      obs.accepted.add(n - err.rejected);
      obs.refused.add(err.rejected);
      return { ok: true, rejected: err.rejected, message: err.message };
    }
    obs.refused.add(n);
    return { ok: false, ...classifyRefusal(err) };
  }
}

/** HTTP status for a refusal: 400 bad data, 429 slow down, 503 unavailable. */
export function httpStatusOf(r: Refusal): number {
  return r.kind === 'invalid' ? 400 : r.kind === 'throttle' ? 429 : 503;
}

/** Retry-After in whole seconds (at least 1) for retryable refusals. */
export function retryAfterHeader(r: Refusal): Record<string, string> {
  if (r.kind === 'invalid') return {};
  return { 'Retry-After': String(Math.max(1, Math.ceil((r.retryAfterMs ?? 1000) / 1000))) };
}
