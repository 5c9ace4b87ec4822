// The X-Ray segment document this exporter writes, field names as in the segment document schema
// (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html) and the
// collector's Go struct (internal/aws/xray/tracesegment.go). Absent fields are left out of the
// JSON (the collector's `omitempty`); the collector's always-present `fault`/`error`/`throttle`
// booleans are kept always present here too.

import type { AwsData, HttpData, LinkData, SqlData, XRayException } from '../../aws/xray-segment.ts';

export interface CauseData {
  exceptions: XRayException[];
}

/** A segment (`type` absent) or an independent subsegment (`type: subsegment`). */
export interface SegmentDocument {
  name: string;
  id: string;
  trace_id: string;
  start_time: number;
  end_time: number;
  parent_id?: string;
  type?: 'subsegment';
  namespace?: 'aws' | 'remote';
  origin?: string;
  user?: string;
  resource_arn?: string;
  service?: { version: string };
  fault: boolean;
  error: boolean;
  throttle: boolean;
  cause?: CauseData;
  http?: HttpData;
  aws?: AwsData;
  sql?: SqlData;
  annotations?: Record<string, string | number | boolean | RawJsonNumber>;
  metadata?: Record<string, Record<string, unknown>>;
  links?: LinkData[];
}

/** An int64 beyond ±2^53, written as an exact JSON number (as Go's encoder writes an int64). */
export type RawJsonNumber = object;

// JSON.rawJSON (V8 11.4+, Node >= 21): JSON.stringify writes its text as is. The TypeScript lib in
// use does not declare it yet.
const rawJSON = (JSON as unknown as { rawJSON: (text: string) => RawJsonNumber }).rawJSON;

/** An OTLP int64 as a JSON value: a number when exact, else its exact decimal digits. */
export function jsonInt(v: bigint | number | string): number | RawJsonNumber {
  if (typeof v === 'number') return v;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : rawJSON(BigInt(v).toString());
}

/** The document as X-Ray receives it. */
export function serializeDocument(doc: SegmentDocument): string {
  return JSON.stringify(doc);
}
