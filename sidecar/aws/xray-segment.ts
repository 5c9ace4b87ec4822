// The parts of an X-Ray segment document that the awsxray receiver reads and the awsxray exporter
// writes, field names as in the segment document schema
// (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html) and the
// collector's Go struct (internal/aws/xray/tracesegment.go). One definition, the union of the
// fields either side uses; every field is optional because the receiver accepts what SDKs omit.
// The whole documents differ (decoded input vs. written output) and stay with their components.

export interface StackFrame {
  path?: string;
  line?: number;
  label?: string;
}

export interface XRayException {
  id?: string;
  message?: string;
  type?: string;
  remote?: boolean;
  truncated?: number;
  skipped?: number;
  cause?: string;
  stack?: StackFrame[];
}

export interface HttpData {
  request?: { method?: string; url?: string; user_agent?: string; client_ip?: string; x_forwarded_for?: boolean };
  /** content_length is `any` in the collector: the receiver keeps a number or a string as they are. */
  response?: { status?: number; content_length?: number | string };
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
  retries?: number;
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
  cloudwatch_logs?: { log_group?: string; arn?: string }[];
  xray?: { sdk?: string; sdk_version?: string; auto_instrumentation?: boolean };
}

export interface SqlData {
  url?: string;
  connection_string?: string;
  database_type?: string;
  user?: string;
  sanitized_query?: string;
}

export interface LinkData {
  trace_id?: string;
  id?: string;
  attributes?: Record<string, unknown>;
}
