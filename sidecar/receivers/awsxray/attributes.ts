// Segment fields → OTLP attributes, events and resource, following the collector's
// awsxrayreceiver translator (receiver/awsxrayreceiver/internal/translator: http.go, aws.go,
// sql.go, cause.go, annotations.go, metadata.go, sdk.go) and its attribute names
// (internal/aws/xray/awsxray.go). Deliberate differences are marked "tracebridge:" and listed in
// the README.
import type { KeyValue, SpanEvent } from '../../pdata/otlp-schema.ts';
import type { AwsData, HttpData, SqlData, XRayException } from '../../aws/xray-segment.ts';
import type { Cause, Segment } from './segment.ts';

export const ATTR = {
  inProgress: 'aws.xray.inprogress',
  xForwardedFor: 'aws.xray.x_forwarded_for',
  resourceArn: 'aws.xray.resource_arn',
  traced: 'aws.xray.traced',
  annotations: 'aws.xray.annotations',
  metadataPrefix: 'aws.xray.metadata.',
  retries: 'aws.xray.retries',
  exceptionId: 'aws.xray.exception.id',
  exceptionRemote: 'aws.xray.exception.remote',
  exceptionTruncated: 'aws.xray.exception.truncated',
  exceptionSkipped: 'aws.xray.exception.skipped',
  exceptionCause: 'aws.xray.exception.cause',
  awsService: 'aws.service',
} as const;

export class Attrs {
  readonly list: KeyValue[] = [];

  str(key: string, v: string | undefined): void {
    if (v !== undefined) this.list.push({ key, value: { stringValue: v } });
  }
  int(key: string, v: number | undefined): void {
    if (v === undefined) return;
    // Free-form numbers (content_length is `any`) may not fit an int64: keep them as doubles.
    const t = Math.trunc(v);
    if (Number.isSafeInteger(t)) this.list.push({ key, value: { intValue: String(t) } });
    else this.double(key, v);
  }
  double(key: string, v: number): void {
    this.list.push({ key, value: { doubleValue: v } });
  }
  bool(key: string, v: boolean | undefined): void {
    if (v !== undefined) this.list.push({ key, value: { boolValue: v } });
  }
  strings(key: string, values: string[]): void {
    this.list.push({ key, value: { arrayValue: { values: values.map((s) => ({ stringValue: s })) } } });
  }
  /** pcommon.Map.PutStr semantics: a second put of the same key replaces the first. */
  put(key: string, v: string | undefined): void {
    if (v === undefined) return;
    const i = this.list.findIndex((kv) => kv.key === key);
    if (i >= 0) this.list.splice(i, 1);
    this.str(key, v);
  }
  /** addStringSlice: appends to the slice under `key`, creating it. */
  append(key: string, v: string | undefined): void {
    if (v === undefined) return;
    const kv = this.list.find((a) => a.key === key);
    if (kv?.value?.arrayValue?.values !== undefined) kv.value.arrayValue.values.push({ stringValue: v });
    else this.strings(key, [v]);
  }
}

/** http.go. Returns true when the response status marks the span as an error. */
export function addHttp(http: HttpData, a: Attrs): boolean {
  const req = http.request;
  if (req !== undefined) {
    a.str('http.method', req.method);
    a.str('http.client_ip', req.client_ip);
    a.str('http.user_agent', req.user_agent);
    a.str('http.url', req.url);
    a.bool(ATTR.xForwardedFor, req.x_forwarded_for);
  }
  const res = http.response;
  let error = false;
  if (res !== undefined) {
    if (res.status !== undefined) {
      // tracetranslator.StatusCodeFromHTTP: 1xx-3xx leave the status unset, anything else is an error.
      error = !(res.status >= 100 && res.status < 400);
      a.int('http.status_code', res.status);
    }
    if (typeof res.content_length === 'string') a.str('http.response_content_length', res.content_length);
    else a.int('http.response_content_length', res.content_length);
  }
  return error;
}

/** aws.go addAWSToSpan. */
export function addAwsToSpan(aws: AwsData, a: Attrs): void {
  a.str('aws.account_id', aws.account_id);
  a.str('aws.operation', aws.operation);
  a.str('aws.region', aws.region);
  a.str('aws.request_id', aws.request_id);
  a.str('aws.queue_url', aws.queue_url);
  a.str('aws.table_name', aws.table_name);
  a.int(ATTR.retries, aws.retries);
}

// sql.go splitSQLURL: protocol+transport://host:port/dbName?queryParam
const SQL_URL = /^(.+\/\/.+)\/([^?]+)\??.*$/;

/**
 * sql.go. tracebridge: a `sql.url` without a database name keeps the span (the URL goes to
 * db.connection_string as is); the collector rejects the whole segment document for it.
 */
export function addSql(sql: SqlData, a: Attrs): void {
  if (sql.url !== undefined) {
    const m = SQL_URL.exec(sql.url);
    a.str('db.connection_string', m === null ? sql.url : m[1]);
    if (m !== null) a.str('db.name', m[2]);
  }
  a.str('db.system', sql.database_type);
  a.str('db.statement', sql.sanitized_query);
  a.str('db.user', sql.user);
}

/**
 * annotations.go: each annotation becomes an attribute of its own name and the list of names goes
 * to aws.xray.annotations (the awsxrayexporter turns those back into annotations). JSON numbers
 * are float64 in Go, so numbers are doubles. tracebridge: values that are not string, number or
 * boolean (X-Ray rejects them) are skipped and not listed.
 */
export function addAnnotations(annotations: Record<string, unknown>, a: Attrs): void {
  const keys: string[] = [];
  for (const [k, v] of Object.entries(annotations)) {
    if (typeof v === 'string') a.str(k, v);
    else if (typeof v === 'boolean') a.bool(k, v);
    else if (typeof v === 'number') a.double(k, v);
    else continue;
    keys.push(k);
  }
  if (keys.length > 0) a.strings(ATTR.annotations, keys);
}

/** metadata.go: one JSON string attribute per namespace, `aws.xray.metadata.<namespace>`. */
export function addMetadata(metadata: Record<string, Record<string, unknown>>, a: Attrs): void {
  for (const [ns, v] of Object.entries(metadata)) a.str(ATTR.metadataPrefix + ns, JSON.stringify(v));
}

/** cause.go convertStackFramesToStackTraceStr. */
function stackTrace(e: XRayException): string {
  let out = `${e.type ?? ''}: ${e.message ?? ''}\n`;
  for (const f of e.stack ?? []) out += `\tat ${f.label ?? ''}(${f.path ?? ''}: ${f.line ?? '<unknown>'})\n`;
  return out;
}

/**
 * cause.go: exceptions become `exception` events; a cause that is only an exception ID becomes the
 * status message. tracebridge: events carry the span's end time (the collector leaves 0, 1970).
 */
export function causeEvents(cause: Cause, time: bigint | undefined): { events: SpanEvent[]; statusMessage?: string } {
  if (cause.kind === 'exception_id') return { events: [], statusMessage: cause.id };
  const events = cause.exceptions.map((e): SpanEvent => {
    const a = new Attrs();
    a.str(ATTR.exceptionId, e.id);
    a.str('exception.message', e.message);
    a.str('exception.type', e.type);
    a.bool(ATTR.exceptionRemote, e.remote);
    a.int(ATTR.exceptionTruncated, e.truncated);
    a.int(ATTR.exceptionSkipped, e.skipped);
    a.str(ATTR.exceptionCause, e.cause);
    if (e.stack !== undefined && e.stack.length > 0) a.str('exception.stacktrace', stackTrace(e));
    return time === undefined ? { name: 'exception', attributes: a.list } : { name: 'exception', timeUnixNano: time, attributes: a.list };
  });
  return { events };
}

// The inverse of the awsxrayexporter's cloud.platform → origin table (exporter translator
// segment.go determineAwsOrigin), plus Lambda. tracebridge: the collector's receiver ignores origin.
const ORIGINS: Record<string, { platform: string; launchType?: string }> = {
  'AWS::EC2::Instance': { platform: 'aws_ec2' },
  'AWS::ECS::Container': { platform: 'aws_ecs' },
  'AWS::ECS::EC2': { platform: 'aws_ecs', launchType: 'ec2' },
  'AWS::ECS::Fargate': { platform: 'aws_ecs', launchType: 'fargate' },
  'AWS::EKS::Container': { platform: 'aws_eks' },
  'AWS::ElasticBeanstalk::Environment': { platform: 'aws_elastic_beanstalk' },
  'AWS::AppRunner::Service': { platform: 'aws_app_runner' },
  'AWS::Lambda::Function': { platform: 'aws_lambda' },
};

/** translator.go populateResource + aws.go addAWSToResource + sdk.go addSdkToResource. */
export function resourceAttributes(seg: Segment): KeyValue[] {
  const a = new Attrs();
  a.str('service.name', seg.name);
  const aws = seg.aws;
  const origin = seg.origin === undefined ? undefined : ORIGINS[seg.origin];
  // No `aws` field means "not generated by an AWS entity": the collector writes "unknown".
  a.str('cloud.provider', aws !== undefined || origin !== undefined ? 'aws' : 'unknown');
  if (origin !== undefined) {
    a.str('cloud.platform', origin.platform);
    a.str('aws.ecs.launchtype', origin.launchType);
  }
  if (aws !== undefined) {
    a.str('cloud.account.id', aws.account_id);
    for (const g of aws.cloudwatch_logs ?? []) {
      a.append('aws.log.group.arns', g.arn);
      a.append('aws.log.group.names', g.log_group);
    }
    if (aws.ec2 !== undefined) {
      a.put('cloud.availability_zone', aws.ec2.availability_zone);
      a.put('host.id', aws.ec2.instance_id);
      a.put('host.type', aws.ec2.instance_size);
      a.put('host.image.id', aws.ec2.ami_id);
    }
    if (aws.ecs !== undefined) {
      a.put('container.name', aws.ecs.container);
      a.put('cloud.availability_zone', aws.ecs.availability_zone);
      a.put('container.id', aws.ecs.container_id);
    }
    const eb = aws.elastic_beanstalk;
    if (eb !== undefined) {
      a.put('service.namespace', eb.environment_name);
      a.put('service.instance.id', eb.deployment_id === undefined ? undefined : String(eb.deployment_id));
      a.put('service.version', eb.version_label);
    }
    if (aws.eks !== undefined) {
      a.put('container.id', aws.eks.container_id);
      a.put('k8s.cluster.name', aws.eks.cluster_name);
      a.put('k8s.pod.name', aws.eks.pod);
    }
    const sdk = aws.xray;
    if (sdk !== undefined) {
      a.put('telemetry.sdk.version', sdk.sdk_version);
      if (sdk.sdk !== undefined) {
        a.put('telemetry.sdk.name', sdk.sdk);
        // "X-Ray for Go" → "Go". tracebridge: the collector writes "java" whenever the segment has
        // exceptions (an old exporter limitation); the SDK name is the truth, so it is kept.
        const i = sdk.sdk.indexOf('for ');
        if (i >= 0) a.put('telemetry.sdk.language', sdk.sdk.slice(i + 4));
      }
    }
  }
  a.put('service.version', seg.service?.version);
  a.put(ATTR.resourceArn, seg.resource_arn);
  return a.list;
}
