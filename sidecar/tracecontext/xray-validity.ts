// Legacy X-Ray validity of a trace ID relative to a reference time.
//
// Older X-Ray ingestion paths read bytes 0-3 of a trace ID as a big-endian Unix epoch (seconds)
// and drop the span unless that time is recent. The rule here is the collector's
// awsxrayexporter (exporter/awsxrayexporter/internal/translator/segment.go,
// convertToAmazonTraceID, when the `skiptimestampvalidation` gate is off):
//
//     maxAge = 60 * 60 * 24 * 28   // 28 days; "AWS has a 30 day limit"
//     maxSkew = 60 * 5             // 5 minutes of clock skew
//     delta := time.Now().Unix() - epoch
//     if delta > maxAge || delta < -maxSkew { invalid }
//
// so both ends are inclusive: valid iff ref - 28 d <= epoch <= ref + 5 min, with ref in whole
// seconds (Go's Unix() truncates). The exporter compares with its own clock at export time;
// tracebridge compares with the time the caller passes (the span's start for the rewrite rule,
// "now" for the convert command). All functions here read bytes in place and allocate nothing.

/** The collector awsxrayexporter's maxAge: 28 days, in seconds. */
export const XRAY_MAX_AGE_SECONDS = 60 * 60 * 24 * 28;
/** The collector awsxrayexporter's maxSkew: 5 minutes, in seconds. */
export const XRAY_MAX_SKEW_SECONDS = 60 * 5;

/** Why an ID is or is not legacy-valid. String constants, so returning one allocates nothing. */
export type XRayValidity = 'valid' | 'too-old' | 'in-future';

/** Bytes 0-3 of the ID at `offset`, read as a big-endian unsigned 32-bit Unix epoch in seconds. */
export function xrayEpochSeconds(traceId: Uint8Array, offset = 0): number {
  // `>>> 0` keeps the value unsigned: epochs after 2038 have the top bit set.
  return ((traceId[offset]! << 24) | (traceId[offset + 1]! << 16) | (traceId[offset + 2]! << 8) | traceId[offset + 3]!) >>> 0;
}

/**
 * Legacy validity of the ID at `offset` relative to `referenceEpochSeconds` (fractions are
 * truncated as Go's Unix() does): 'too-old' when the embedded time is more than 28 days before
 * the reference, 'in-future' when more than 5 minutes after it, else 'valid'.
 */
export function xrayValidity(traceId: Uint8Array, referenceEpochSeconds: number, offset = 0): XRayValidity {
  const delta = Math.floor(referenceEpochSeconds) - xrayEpochSeconds(traceId, offset);
  if (delta > XRAY_MAX_AGE_SECONDS) return 'too-old';
  if (delta < -XRAY_MAX_SKEW_SECONDS) return 'in-future';
  return 'valid';
}

/** True when legacy X-Ray ingestion with its clock at `referenceEpochSeconds` accepts the ID. */
export function isXRayValidTraceId(traceId: Uint8Array, referenceEpochSeconds: number, offset = 0): boolean {
  return xrayValidity(traceId, referenceEpochSeconds, offset) === 'valid';
}
