// google.rpc.Status, the error body of OTLP/HTTP and the `grpc-status-details-bin` trailer of gRPC,
// with the one detail OTLP gives a meaning to, google.rpc.RetryInfo. Encoder and decoder side by
// side: the receivers write it, the exporters read what backends send.
//   Status    { 1: code int32, 2: message string, 3: details repeated google.protobuf.Any }
//   Any       { 1: type_url string, 2: value bytes }
//   RetryInfo { 1: retry_delay google.protobuf.Duration }
//   Duration  { 1: seconds int64, 2: nanos int32 }
// (tags in pdata/fields.ts).
//
// Why RetryInfo matters: the OTLP specification, and with it the collector's exporters and the
// OpenTelemetry Go SDK, retry RESOURCE_EXHAUSTED only when the status carries a RetryInfo ("the
// server can recover"); without one the client drops the data as a permanent refusal.
import {
  TAG_ANY_TYPE_URL,
  TAG_ANY_VALUE,
  TAG_DURATION_NANOS,
  TAG_DURATION_SECONDS,
  TAG_RETRY_INFO_DELAY,
  TAG_RPC_STATUS_CODE,
  TAG_RPC_STATUS_DETAILS,
  TAG_RPC_STATUS_MESSAGE,
} from '../pdata/fields.ts';
import { lenField, varintField } from '../pdata/splice.ts';
import { WireReader } from '../pdata/wire.ts';

export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

export interface RpcStatusDetail {
  typeUrl: string;
  value: Uint8Array;
}

export interface RpcStatus {
  code: number;
  message: string;
  /** Each detail's type URL and value bytes. */
  details: RpcStatusDetail[];
}

const utf8 = new TextDecoder();

/** Encodes a google.rpc.Status. Fields at their proto3 default (code 0, empty message) are left out. */
export function encodeRpcStatus(status: RpcStatus): Buffer {
  const parts: Uint8Array[] = [];
  if (status.code !== 0) parts.push(varintField(TAG_RPC_STATUS_CODE, status.code));
  if (status.message !== '') parts.push(lenField(TAG_RPC_STATUS_MESSAGE, Buffer.from(status.message, 'utf8')));
  for (const d of status.details) {
    parts.push(lenField(TAG_RPC_STATUS_DETAILS, Buffer.concat([lenField(TAG_ANY_TYPE_URL, Buffer.from(d.typeUrl, 'utf8')), lenField(TAG_ANY_VALUE, d.value)])));
  }
  return Buffer.concat(parts);
}

/** A RetryInfo detail asking the client to wait `delayMs` (whole milliseconds, ≥ 0) before it retries. */
export function retryInfoDetail(delayMs: number): RpcStatusDetail {
  const ms = Math.max(0, Math.floor(delayMs));
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms % 1000) * 1e6;
  const duration: Uint8Array[] = [];
  if (seconds !== 0) duration.push(varintField(TAG_DURATION_SECONDS, seconds));
  if (nanos !== 0) duration.push(varintField(TAG_DURATION_NANOS, nanos));
  return { typeUrl: RETRY_INFO_TYPE_URL, value: lenField(TAG_RETRY_INFO_DELAY, Buffer.concat(duration)) };
}

/** Decodes a google.rpc.Status; undefined when the bytes are not one. */
export function readRpcStatus(body: Uint8Array): RpcStatus | undefined {
  try {
    const r = new WireReader(body);
    const out: RpcStatus = { code: 0, message: '', details: [] };
    while (r.pos < r.end) {
      const tag = r.tag();
      if (tag === TAG_RPC_STATUS_CODE) out.code = r.varint();
      else if (tag === TAG_RPC_STATUS_MESSAGE) out.message = utf8.decode(r.lenBytes());
      else if (tag === TAG_RPC_STATUS_DETAILS) {
        const any = new WireReader(r.lenBytes());
        let typeUrl = '';
        let value: Uint8Array = new Uint8Array(0);
        while (any.pos < any.end) {
          const t = any.tag();
          if (t === TAG_ANY_TYPE_URL) typeUrl = utf8.decode(any.lenBytes());
          else if (t === TAG_ANY_VALUE) value = any.lenBytes();
          else any.skip(t & 7, t >>> 3);
        }
        out.details.push({ typeUrl, value });
      } else r.skip(tag & 7, tag >>> 3);
    }
    return out;
  } catch {
    return undefined;
  }
}

/**
 * The delay of a google.rpc.RetryInfo detail in milliseconds, or undefined when the status has no
 * RetryInfo.
 */
export function retryInfoDelayMs(status: RpcStatus): number | undefined {
  const detail = status.details.find((d) => d.typeUrl === RETRY_INFO_TYPE_URL);
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
      const d = new WireReader(r.lenBytes());
      while (d.pos < d.end) {
        const dt = d.tag();
        if (dt === TAG_DURATION_SECONDS) seconds = d.varint();
        else if (dt === TAG_DURATION_NANOS) nanos = d.varint();
        else d.skip(dt & 7, dt >>> 3);
      }
    }
  } catch {
    return 0;
  }
  // Negative int64 values arrive as huge varints: treat them as "no delay".
  if (seconds > 1e12 || nanos > 1e9) return 0;
  return seconds * 1000 + Math.floor(nanos / 1e6);
}
