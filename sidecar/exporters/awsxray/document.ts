// The X-Ray segment document this exporter writes, field names as in the segment document schema
// (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html) and the
// collector's Go struct (internal/aws/xray/tracesegment.go). Absent fields are left out of the
// JSON (the collector's `omitempty`); the collector's always-present `fault`/`error`/`throttle`
// booleans are kept always present here too.

export interface StackFrame {
  path?: string;
  line?: number;
  label?: string;
}

export interface XRayException {
  id: string;
  message?: string;
  type?: string;
  remote?: boolean;
  cause?: string;
  stack?: StackFrame[];
}

export interface CauseData {
  exceptions: XRayException[];
}

export interface HttpData {
  request?: { method?: string; url?: string; user_agent?: string; client_ip?: string; x_forwarded_for?: boolean };
  response?: { status?: number; content_length?: number };
}

export interface AwsData {
  account_id?: string;
  operation?: string;
  /** The remote region of an AWS SDK call (`aws.region`). */
  region?: string;
  request_id?: string;
  queue_url?: string;
  table_name?: string;
  table_names?: string[];
  ec2?: { instance_id?: string; availability_zone?: string; instance_size?: string; ami_id?: string };
  ecs?: {
    container?: string;
    container_id?: string;
    task_arn?: string;
    task_family?: string;
    cluster_arn?: string;
    container_arn?: string;
    availability_zone?: string;
    launch_type?: string;
  };
  eks?: { cluster_name?: string; pod?: string; container_id?: string };
  elastic_beanstalk?: { environment_name?: string; version_label?: string; deployment_id?: number };
  cloudwatch_logs?: { log_group: string; arn?: string }[];
  xray?: { sdk?: string; sdk_version?: string; auto_instrumentation: boolean };
}

export interface SqlData {
  url?: string;
  connection_string?: string;
  database_type?: string;
  user?: string;
  sanitized_query?: string;
}

export interface LinkData {
  trace_id: string;
  id: string;
  attributes?: Record<string, unknown>;
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
