// IDs for traces the bridge starts and span IDs it must invent, plus the ratio decision.
import { randomFillSync } from 'node:crypto';
import { isAllZero } from '../../tracecontext/index.ts';

export interface IdSource {
  /** Fills `out` with random bytes. */
  fill(out: Uint8Array): void;
  /** Current Unix time in whole seconds. */
  nowSeconds(): number;
}

/**
 * Cryptographic randomness drawn from a 4 KiB pool: one randomFillSync per 256 span IDs instead of
 * one per request (the syscall dominates for 8 bytes). Predictable IDs would let a caller guess
 * other requests' trace IDs, so Math.random is not used.
 */
export function cryptoIdSource(): IdSource {
  const pool = new Uint8Array(4096);
  let pos = pool.length;
  return {
    fill(out) {
      if (pos + out.length > pool.length) {
        randomFillSync(pool);
        pos = 0;
      }
      out.set(pool.subarray(pos, pos + out.length));
      pos += out.length;
    },
    nowSeconds: () => Math.floor(Date.now() / 1000),
  };
}

/**
 * A new trace ID whose first 4 bytes are the current epoch seconds, as X-Ray SDKs and
 * OpenTelemetry's AWS X-Ray ID generator make them: legacy X-Ray ingestion accepts it,
 * and bytes 4–15 stay random for W3C.
 */
export function newTraceId(ids: IdSource): Uint8Array {
  const id = new Uint8Array(16);
  do ids.fill(id.subarray(4));
  while (isAllZero(id, 4, 12));
  new DataView(id.buffer).setUint32(0, ids.nowSeconds() >>> 0);
  return id;
}

export function newSpanId(ids: IdSource): Uint8Array {
  const id = new Uint8Array(8);
  do ids.fill(id);
  while (isAllZero(id, 0, 8));
  return id;
}

/**
 * The sampling decision for a trace at `ratio`, a function of the trace ID's last 4 bytes (random
 * in every generator, unlike X-Ray's leading timestamp), so every bridge on a trace decides alike.
 */
export function sampledByRatio(traceId: Uint8Array, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  const x = ((traceId[12]! << 24) | (traceId[13]! << 16) | (traceId[14]! << 8) | traceId[15]!) >>> 0;
  return x < ratio * 0x1_0000_0000;
}
