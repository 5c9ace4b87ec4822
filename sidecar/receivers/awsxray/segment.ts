// The X-Ray segment document, decoded with the types the collector's Go struct enforces
// (internal/aws/xray/tracesegment.go): a known field of the wrong type rejects the whole document,
// exactly as json.Unmarshal fails there; unknown fields are ignored; null is "absent".
// Schema: https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html

import type { AwsData, HttpData, LinkData, SqlData, XRayException } from '../../aws/xray-segment.ts';

/** `cause` is either the ID of an exception recorded elsewhere, or an object with exceptions. */
export type Cause = { kind: 'exception_id'; id: string } | { kind: 'object'; exceptions: XRayException[] };

export interface Segment {
  name: string;
  id: string;
  start_time: number;
  trace_id?: string;
  end_time?: number;
  in_progress?: boolean;
  parent_id?: string;
  type?: string;
  namespace?: string;
  origin?: string;
  user?: string;
  resource_arn?: string;
  service?: { version?: string };
  fault?: boolean;
  error?: boolean;
  throttle?: boolean;
  traced?: boolean;
  http?: HttpData;
  aws?: AwsData;
  sql?: SqlData;
  cause?: Cause;
  annotations?: Record<string, unknown>;
  metadata?: Record<string, Record<string, unknown>>;
  links?: LinkData[];
  subsegments?: Segment[];
}

export class SegmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SegmentError';
  }
}

/** Nesting deeper than this is not an SDK's output; it bounds recursion on hostile input. */
export const MAX_SUBSEGMENT_DEPTH = 64;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(path: string, expected: string, v: unknown): never {
  const got = Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v === 'object' ? 'an object' : typeof v;
  throw new SegmentError(`${path}: expected ${expected}, got ${got}`);
}

// Field readers: undefined/null → undefined; wrong type → SegmentError naming the path.
function str(o: Json, k: string, at: string): string | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : fail(`${at}.${k}`, 'a string', v);
}
function num(o: Json, k: string, at: string): number | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'number' ? v : fail(`${at}.${k}`, 'a number', v);
}
function int(o: Json, k: string, at: string): number | undefined {
  const v = num(o, k, at);
  if (v !== undefined && !Number.isSafeInteger(v)) fail(`${at}.${k}`, 'an integer', v);
  return v;
}
function bool(o: Json, k: string, at: string): boolean | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'boolean' ? v : fail(`${at}.${k}`, 'true or false', v);
}
function obj(o: Json, k: string, at: string): Json | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  return isObject(v) ? v : fail(`${at}.${k}`, 'an object', v);
}
function arr(o: Json, k: string, at: string): unknown[] | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  return Array.isArray(v) ? (v as unknown[]) : fail(`${at}.${k}`, 'an array', v);
}
function objects(o: Json, k: string, at: string): Json[] | undefined {
  return arr(o, k, at)?.map((v, i) => (isObject(v) ? v : fail(`${at}.${k}[${i}]`, 'an object', v)));
}

/**
 * The fields `read` picks without the keys whose value is undefined (cleaner objects, smaller
 * tests). Copied into a new object rather than `delete`d: deleting turns an object into a slow
 * dictionary, which cost a tenth of the receiver's CPU on SDK segments (profile of the UDP path).
 */
function compact<T extends object>(value: T): T {
  const out = {} as T;
  for (const k in value) if (value[k] !== undefined) out[k] = value[k];
  return out;
}

function readHttp(o: Json, at: string): HttpData {
  const req = obj(o, 'request', at);
  const res = obj(o, 'response', at);
  const http: HttpData = {};
  if (req !== undefined) {
    const p = `${at}.request`;
    http.request = compact({
      method: str(req, 'method', p),
      url: str(req, 'url', p),
      user_agent: str(req, 'user_agent', p),
      client_ip: str(req, 'client_ip', p),
      x_forwarded_for: bool(req, 'x_forwarded_for', p),
    });
  }
  if (res !== undefined) {
    const p = `${at}.response`;
    const cl = res.content_length;
    http.response = compact({
      status: int(res, 'status', p),
      content_length: typeof cl === 'number' || typeof cl === 'string' ? cl : undefined,
    });
  }
  return http;
}

function readAws(o: Json, at: string): AwsData {
  const ec2 = obj(o, 'ec2', at);
  const ecs = obj(o, 'ecs', at);
  const eks = obj(o, 'eks', at);
  const eb = obj(o, 'elastic_beanstalk', at);
  const xray = obj(o, 'xray', at);
  const logs = objects(o, 'cloudwatch_logs', at);
  return compact({
    account_id: str(o, 'account_id', at),
    operation: str(o, 'operation', at),
    region: str(o, 'region', at),
    request_id: str(o, 'request_id', at),
    queue_url: str(o, 'queue_url', at),
    table_name: str(o, 'table_name', at),
    retries: int(o, 'retries', at),
    ec2: ec2 && compact({
      instance_id: str(ec2, 'instance_id', `${at}.ec2`),
      availability_zone: str(ec2, 'availability_zone', `${at}.ec2`),
      instance_size: str(ec2, 'instance_size', `${at}.ec2`),
      ami_id: str(ec2, 'ami_id', `${at}.ec2`),
    }),
    ecs: ecs && compact({
      container: str(ecs, 'container', `${at}.ecs`),
      container_id: str(ecs, 'container_id', `${at}.ecs`),
      availability_zone: str(ecs, 'availability_zone', `${at}.ecs`),
    }),
    eks: eks && compact({
      cluster_name: str(eks, 'cluster_name', `${at}.eks`),
      pod: str(eks, 'pod', `${at}.eks`),
      container_id: str(eks, 'container_id', `${at}.eks`),
    }),
    elastic_beanstalk: eb && compact({
      environment_name: str(eb, 'environment_name', `${at}.elastic_beanstalk`),
      version_label: str(eb, 'version_label', `${at}.elastic_beanstalk`),
      deployment_id: int(eb, 'deployment_id', `${at}.elastic_beanstalk`),
    }),
    cloudwatch_logs: logs?.map((l, i) => compact({ log_group: str(l, 'log_group', `${at}.cloudwatch_logs[${i}]`), arn: str(l, 'arn', `${at}.cloudwatch_logs[${i}]`) })),
    xray: xray && compact({ sdk: str(xray, 'sdk', `${at}.xray`), sdk_version: str(xray, 'sdk_version', `${at}.xray`) }),
  });
}

function readException(e: Json, at: string): XRayException {
  return compact({
    id: str(e, 'id', at),
    message: str(e, 'message', at),
    type: str(e, 'type', at),
    remote: bool(e, 'remote', at),
    truncated: int(e, 'truncated', at),
    skipped: int(e, 'skipped', at),
    cause: str(e, 'cause', at),
    stack: objects(e, 'stack', at)?.map((f, i) =>
      compact({ path: str(f, 'path', `${at}.stack[${i}]`), line: int(f, 'line', `${at}.stack[${i}]`), label: str(f, 'label', `${at}.stack[${i}]`) }),
    ),
  });
}

// The collector's CauseData.UnmarshalJSON: an object, else a string (an exception ID), else an error.
function readCause(v: unknown, at: string): Cause | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return { kind: 'exception_id', id: v };
  if (!isObject(v)) fail(at, 'an exception ID or an object', v);
  const list = objects(v, 'exceptions', at) ?? [];
  return { kind: 'object', exceptions: list.map((e, i) => readException(e, `${at}.exceptions[${i}]`)) };
}

function readMetadata(o: Json, at: string): Record<string, Record<string, unknown>> | undefined {
  const m = obj(o, 'metadata', at);
  if (m === undefined) return undefined;
  const out: Record<string, Record<string, unknown>> = {};
  for (const [ns, v] of Object.entries(m)) {
    if (v === null) continue;
    out[ns] = isObject(v) ? v : fail(`${at}.metadata.${ns}`, 'an object', v);
  }
  return out;
}

function readSegment(o: Json, at: string, depth: number): Segment {
  const name = str(o, 'name', at);
  const id = str(o, 'id', at);
  const start = num(o, 'start_time', at);
  // The collector's Validate() checks the document root; embedded subsegments without these
  // would make its translator dereference nil, so they are required everywhere here.
  if (name === undefined) throw new SegmentError(`${at}: "name" is required`);
  if (id === undefined) throw new SegmentError(`${at}: "id" is required`);
  if (start === undefined) throw new SegmentError(`${at}: "start_time" is required`);
  const http = obj(o, 'http', at);
  const aws = obj(o, 'aws', at);
  const sql = obj(o, 'sql', at);
  const service = obj(o, 'service', at);
  const subs = objects(o, 'subsegments', at);
  if (subs !== undefined && subs.length > 0 && depth >= MAX_SUBSEGMENT_DEPTH) {
    throw new SegmentError(`${at}: subsegments nested deeper than ${MAX_SUBSEGMENT_DEPTH}`);
  }
  return compact<Segment>({
    name,
    id,
    start_time: start,
    trace_id: str(o, 'trace_id', at),
    end_time: num(o, 'end_time', at),
    in_progress: bool(o, 'in_progress', at),
    parent_id: str(o, 'parent_id', at),
    type: str(o, 'type', at),
    namespace: str(o, 'namespace', at),
    origin: str(o, 'origin', at),
    user: str(o, 'user', at),
    resource_arn: str(o, 'resource_arn', at),
    service: service && compact({ version: str(service, 'version', `${at}.service`) }),
    fault: bool(o, 'fault', at),
    error: bool(o, 'error', at),
    throttle: bool(o, 'throttle', at),
    traced: bool(o, 'traced', at),
    http: http && readHttp(http, `${at}.http`),
    aws: aws && readAws(aws, `${at}.aws`),
    sql: sql && compact({
      url: str(sql, 'url', `${at}.sql`),
      sanitized_query: str(sql, 'sanitized_query', `${at}.sql`),
      database_type: str(sql, 'database_type', `${at}.sql`),
      user: str(sql, 'user', `${at}.sql`),
    }),
    cause: readCause(o.cause, `${at}.cause`),
    annotations: obj(o, 'annotations', at),
    metadata: readMetadata(o, at),
    links: objects(o, 'links', at)?.map((l, i) =>
      compact({ trace_id: str(l, 'trace_id', `${at}.links[${i}]`), id: str(l, 'id', `${at}.links[${i}]`), attributes: obj(l, 'attributes', `${at}.links[${i}]`) }),
    ),
    subsegments: subs?.map((s, i) => readSegment(s, `${at}.subsegments[${i}]`, depth + 1)),
  });
}

/**
 * Parses and type-checks one segment document (a segment or an independent subsegment).
 * Throws SegmentError (bad JSON, wrong types, missing required fields).
 */
export function parseSegmentDocument(body: Buffer | string): Segment {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (err) {
    throw new SegmentError(`not JSON: ${(err as Error).message}`);
  }
  if (!isObject(raw)) fail('segment', 'a JSON object', raw);
  const seg = readSegment(raw, 'segment', 0);
  if (seg.trace_id === undefined) throw new SegmentError('segment: "trace_id" is required');
  return seg;
}

/** The segment and every embedded subsegment: the number of spans the document becomes. */
export function countSegments(seg: Segment): number {
  let n = 1;
  for (const s of seg.subsegments ?? []) n += countSegments(s);
  return n;
}
