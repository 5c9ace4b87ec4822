// Public entry of the trace-context library: pure ID and header conversions used by the
// receivers, the tracecontext processor, the exporters and the header bridge. See README.md.

export type { B3SamplingOnly, TraceContext, XRayExtra, XRayField } from './context.ts';
export { effectiveSampled, isTraceContext } from './context.ts';
export { byteToHex, bytesToHex, decodeHexInto, isAllZero } from './hex.ts';
export {
  SPAN_ID_BYTES,
  TRACE_ID_BYTES,
  XRAY_TRACE_ID_LENGTH,
  formatXRayTraceId,
  hexToSpanId,
  hexToSpanIdInto,
  hexToTraceId,
  hexToTraceIdInto,
  isValidSpanId,
  isValidTraceId,
  parseXRayTraceId,
  parseXRayTraceIdInto,
  spanIdToHex,
  traceIdToHex,
  traceIdsEqual,
} from './ids.ts';
export type { XRayValidity } from './xray-validity.ts';
export {
  XRAY_MAX_AGE_SECONDS,
  XRAY_MAX_SKEW_SECONDS,
  isXRayValidTraceId,
  xrayEpochSeconds,
  xrayValidity,
} from './xray-validity.ts';
export type { RewriteOutcome } from './rewrite.ts';
export {
  DEFAULT_REWRITE_WINDOW_SECONDS,
  MAX_REWRITE_WINDOW_SECONDS,
  MIN_REWRITE_WINDOW_SECONDS,
  bucketOffsetSeconds,
  bucketStartSeconds,
  isUsableStartTime,
  readUnixNanosAsEpochSeconds,
  rewriteTraceIdAtReceiveTime,
  rewriteTraceIdIfInvalid,
  rewriteTraceIdInPlace,
  rewriteWindowError,
  rewrittenTraceId,
  traceBucketHash,
} from './rewrite.ts';
export { TRACEPARENT_HEADER, TRACESTATE_HEADER, formatTraceparent, parseTraceparent } from './w3c.ts';
export { XRAY_TRACE_HEADER, formatXRayHeader, parseXRayHeader } from './xray-header.ts';
export type { B3Parsed } from './b3.ts';
export {
  B3_FLAGS_HEADER,
  B3_PARENT_SPAN_ID_HEADER,
  B3_SAMPLED_HEADER,
  B3_SINGLE_HEADER,
  B3_SPAN_ID_HEADER,
  B3_TRACE_ID_HEADER,
  formatB3Multi,
  formatB3SamplingOnly,
  formatB3Single,
  parseB3Multi,
  parseB3Single,
} from './b3.ts';
export { CONVERT_USAGE, runConvert } from './convert-command.ts';
